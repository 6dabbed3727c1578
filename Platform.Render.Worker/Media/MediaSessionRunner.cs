using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Render.Sessions;

namespace Platform.Render.Worker.Media;

/// <summary>
/// The production session runner: fetches the conversation's session spec, starts a <see cref="LiveSession"/> (the
/// engine pipeline with its media clock), reports the replica's presence, and serves pages through
/// <see cref="MediaEndpoints"/>. Stop ends the session: pages hear <c>system.ended</c> when the conversation is over,
/// or are closed to reconnect (to the worker the pool moved the conversation to) when it is not. A conversation on
/// LiveKit joins its room instead (<see cref="LiveKitRoomTransport"/>; presence then comes from LiveKit's webhooks).
/// </summary>
public sealed partial class MediaSessionRunner(
    IGrainFactory grains,
    IOptions<RenderOptions> options,
    WorkerEngine engine,
    TimeProvider time,
    ILoggerFactory loggers,
    VideoEncoderFactory? encoders = null,
    LiveKitConnector? liveKit = null) : ISessionRunner, IAsyncDisposable
{
    private readonly ConcurrentDictionary<ConversationId, LiveSession> _sessions = new();
    private readonly ConcurrentDictionary<ConversationId, LiveKitRoomTransport> _rooms = new();
    private readonly LiveKitConnector _connectRoom = liveKit ?? LiveKitRoomTransport.Native;
    private readonly ILogger _logger = loggers.CreateLogger<MediaSessionRunner>();
    private readonly PacedSender? _sender = options.Value.OutputLead > TimeSpan.Zero ? new PacedSender(time) : null;

    private string WorkerId => options.Value.WorkerId!;

    /// <summary>The session of <paramref name="conversation"/> running here, or null.</summary>
    public LiveSession? Find(ConversationId conversation) => _sessions.GetValueOrDefault(conversation);

    /// <summary>The LiveKit transport of <paramref name="conversation"/> running here, or null (embedded transport).</summary>
    public LiveKitRoomTransport? FindRoom(ConversationId conversation) => _rooms.GetValueOrDefault(conversation);

    public async Task<SessionStart> StartAsync(SessionAssignment assignment, CancellationToken cancellationToken)
    {
        var grain = grains.GetGrain<IConversationGrain>(assignment.Conversation.ToGrainKey());
        var spec = await grain.GetSessionSpecAsync();
        if (spec.Problem is { Kind: ProblemKind.NotFound or ProblemKind.Conflict })
        {
            return SessionStart.ConversationOver;
        }
        if (spec.Problem is { } problem)
        {
            throw new InvalidOperationException($"Conversation {assignment.Conversation}: no session spec ({problem.Detail}).");
        }
        var o = options.Value;
        var settings = SessionSettings.From(spec.Value!, o.VideoWidth, o.VideoHeight, o.FramesPerSecond);
        var session = new LiveSession(spec.Value!, settings, engine, grains, WorkerId, encoders, time, loggers,
            _sender is null ? null : (_sender, new OutputPacer(time, o.OutputLead, audioLead: o.AudioLead)));
        try
        {
            await session.StartAsync(cancellationToken);
            if (!session.OnLiveKit && (await grain.JoinedAsync(PresenceRole.Replica, WorkerId)).Problem is { Kind: ProblemKind.NotFound or ProblemKind.Conflict })
            {
                await session.DisposeAsync();
                return SessionStart.ConversationOver;
            }
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
        if (_sessions.TryRemove(assignment.Conversation, out var stale))
        {
            await CloseAsync(assignment.Conversation, stale);
        }
        _sessions[assignment.Conversation] = session;
        if (session.OnLiveKit)
        {
            _rooms[assignment.Conversation] = LiveKitRoomTransport.Start(session, grain, WorkerId, _connectRoom, time, loggers.CreateLogger<LiveKitRoomTransport>());
        }
        LogStarted(assignment.Conversation.ToString(), spec.Value!.Resumed, settings.ToString());
        return SessionStart.Started;
    }

    public async Task StopAsync(ConversationId conversation, CancellationToken cancellationToken)
    {
        var grain = grains.GetGrain<IConversationGrain>(conversation.ToGrainKey());
        if (_sessions.TryRemove(conversation, out var session))
        {
            string? reason = null;
            try
            {
                var info = await grain.GetAsync(false);
                reason = info is null ? ShutdownReasons.Deleted : info.Status == ConversationStatus.Ended ? info.ShutdownReason : null;
            }
            catch (Exception e)
            {
                LogStatusUnknown(conversation.ToString(), e);
            }
            await session.EndAsync(reason);
            await CloseAsync(conversation, session);
            if (session.OnLiveKit && !session.IsAvatar)
            {
                return; // LiveKit reports the replica leaving the room (the tenant's, in avatar mode, does not)
            }
        }
        // An ended or deleted conversation answers a problem: nothing left to report then.
        await grain.LeftAsync(PresenceRole.Replica, WorkerId);
    }

    /// <summary>Leaves the room (if on LiveKit), then ends the session.</summary>
    private async Task CloseAsync(ConversationId conversation, LiveSession session)
    {
        if (_rooms.TryRemove(conversation, out var room))
        {
            await room.DisposeAsync();
        }
        await session.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var conversation in _sessions.Keys.ToList())
        {
            if (_sessions.TryRemove(conversation, out var session))
            {
                await CloseAsync(conversation, session);
            }
        }
        _sender?.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversation {Conversation}: session started (resumed: {Resumed}; {Settings})")]
    private partial void LogStarted(string conversation, bool resumed, string settings);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {Conversation}: its status could not be read at stop; pages are told to reconnect")]
    private partial void LogStatusUnknown(string conversation, Exception e);
}
