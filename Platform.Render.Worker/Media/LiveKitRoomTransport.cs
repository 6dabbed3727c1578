using Platform.Contracts;
using Platform.LiveKit.Ffi;
using Platform.LiveKit.Ffi.Conversations;

namespace Platform.Render.Worker.Media;

/// <summary>Opens a conversation's link to its LiveKit room (the production one joins through LiveKit's native library).</summary>
public delegate Task<ILiveKitRoomLink> LiveKitConnector(LiveKitLinkOptions options, ILiveKitConversationHandler handler, TimeProvider time, CancellationToken cancellationToken);

/// <summary>
/// Puts a <see cref="LiveSession"/> on LiveKit: asks the conversation for the worker's join (URL and a short-lived
/// token for identity <c>worker-{id}</c>), joins the room and attaches the link to the session. A failed first join
/// is retried with back-off (on the session's clock) while the session runs; once joined, the link rides out network
/// loss and rejoins with a fresh token by itself. Stops when the conversation is over or on dispose.
/// </summary>
public sealed partial class LiveKitRoomTransport : IAsyncDisposable
{
    /// <summary>Joins with LiveKit's native library (<see cref="LiveKitConversationLink"/>).</summary>
    public static readonly LiveKitConnector Native = async (options, handler, time, ct) =>
        await LiveKitConversationLink.StartAsync(options, handler, time, ct).ConfigureAwait(false);

    /// <summary>Waits between attempts at the first join (the last one repeats).</summary>
    public static readonly IReadOnlyList<TimeSpan> JoinBackoff =
        [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)];

    private readonly LiveSession _session;
    private readonly IConversationGrain _grain;
    private readonly string _workerId;
    private readonly LiveKitConnector _connect;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private Task _run = Task.CompletedTask;
    private ILiveKitRoomLink? _link;
    private int _attempts;

    private LiveKitRoomTransport(LiveSession session, IConversationGrain grain, string workerId, LiveKitConnector connect, TimeProvider time, ILogger logger)
    {
        _session = session;
        _grain = grain;
        _workerId = workerId;
        _connect = connect;
        _time = time;
        _logger = logger;
    }

    /// <summary>Attempts at the first join so far.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>The room was joined (the link now keeps it).</summary>
    public bool Joined => Volatile.Read(ref _link) is not null;

    /// <summary>Why the last attempt failed, if it did.</summary>
    public string? LastError { get; private set; }

    public static LiveKitRoomTransport Start(LiveSession session, IConversationGrain grain, string workerId, LiveKitConnector connect, TimeProvider time, ILogger logger)
    {
        var transport = new LiveKitRoomTransport(session, grain, workerId, connect, time, logger);
        transport._run = Task.Run(() => transport.RunAsync(transport._stop.Token), CancellationToken.None);
        return transport;
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var conversation = _session.Conversation.ToString();
        for (var attempt = 0; !cancellationToken.IsCancellationRequested; attempt++)
        {
            try
            {
                Interlocked.Increment(ref _attempts);
                var join = await _grain.GetRenderWorkerJoinAsync(_workerId).ConfigureAwait(false);
                if (join.Problem is { Kind: ProblemKind.NotFound or ProblemKind.Conflict } over)
                {
                    LogNoJoin(conversation, over.Detail);
                    return; // ended, deleted, or no longer on LiveKit: nothing to join
                }
                var first = join.Value ?? throw new InvalidOperationException(join.Problem?.Detail);
                var o = _session.Settings.Options;
                var options = new LiveKitLinkOptions
                {
                    Url = first.Url,
                    ConversationId = _session.Conversation.Local,
                    Token = FreshTokens(first),
                    AudioOnly = o.AudioOnly,
                    ListenToMicrophones = !_session.IsAvatar, // avatar mode: the tenant's agent listens
                    Width = o.Width,
                    Height = o.Height,
                };
                var link = await _connect(options, _session, _time, cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _link, link);
                _session.AttachRoom(link);
                LogJoined(conversation, first.Room, first.Identity, Attempts);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LastError = e.Message;
                LogJoinFailed(conversation, Attempts, e.Message);
            }
            try
            {
                await Task.Delay(JoinBackoff[Math.Min(attempt, JoinBackoff.Count - 1)], _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The token already fetched for the first join, then a fresh one from the conversation for each rejoin.</summary>
    private Func<CancellationToken, ValueTask<string>> FreshTokens(LiveKitJoin first)
    {
        var unused = first.Token;
        return async _ =>
        {
            if (Interlocked.Exchange(ref unused, null) is { } token)
            {
                return token;
            }
            var join = await _grain.GetRenderWorkerJoinAsync(_workerId).ConfigureAwait(false);
            return join.Value?.Token ?? throw new FfiException($"no LiveKit token for the rejoin: {join.Problem?.Detail}");
        };
    }

    /// <summary>Stops joining and leaves the room (what the session posted last, such as <c>system.ended</c>, is sent first).</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _run.ConfigureAwait(false);
        _session.AttachRoom(null);
        if (Interlocked.Exchange(ref _link, null) is { } link)
        {
            await link.DisposeAsync().ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversation {Conversation}: joined LiveKit room {Room} as {Identity} (attempt {Attempt})")]
    private partial void LogJoined(string conversation, string room, string identity, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {Conversation}: joining its LiveKit room failed (attempt {Attempt}: {Reason}); retrying")]
    private partial void LogJoinFailed(string conversation, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversation {Conversation}: no LiveKit room to join ({Reason})")]
    private partial void LogNoJoin(string conversation, string reason);
}
