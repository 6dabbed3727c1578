using System.Threading.Channels;
using Platform.LiveKit.Ffi.Media;
using Platform.LiveKit.Ffi.Proto;
using Platform.LiveKit.Ffi.Rooms;
using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Sessions;

namespace Platform.LiveKit.Ffi.Conversations;

/// <summary>What a conversation's LiveKit link needs to join and publish.</summary>
public sealed record LiveKitLinkOptions
{
    public required string Url { get; init; }

    public required string ConversationId { get; init; }

    /// <summary>A fresh worker token for each (re)join (tokens are short-lived; see LiveKitTokenIssuer.CreateRenderWorkerToken).</summary>
    public required Func<CancellationToken, ValueTask<string>> Token { get; init; }

    public bool AudioOnly { get; init; }

    public int Width { get; init; } = 1280;

    public int Height { get; init; } = 720;

    /// <summary>Subscribe to the participants' microphones (false in avatar mode: the tenant's agent does the listening).</summary>
    public bool ListenToMicrophones { get; init; } = true;

    /// <summary>The rate the user's microphone is delivered at (the pipeline's speech rate).</summary>
    public int MicrophoneSampleRate { get; init; } = AudioFormat.Speech16k.SampleRate;

    /// <summary>Delays between rejoin attempts after the room was lost for good (the library's own resume failed).</summary>
    public IReadOnlyList<TimeSpan> RejoinBackoff { get; init; } =
        [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8)];
}

/// <summary>What the link hands to the conversation: the users' microphones and their interactions messages.</summary>
public interface ILiveKitConversationHandler
{
    /// <summary>One frame of a user's microphone, mono at <see cref="LiveKitLinkOptions.MicrophoneSampleRate"/>; the handler owns it.</summary>
    ValueTask OnMicrophoneAsync(string participantIdentity, PcmFrame frame, CancellationToken cancellationToken);

    /// <summary>An interactions-protocol message (JSON) from a participant.</summary>
    ValueTask OnMessageAsync(string participantIdentity, ReadOnlyMemory<byte> json, CancellationToken cancellationToken);

    /// <summary>A participant left the room (its microphone stopped).</summary>
    ValueTask OnParticipantLeftAsync(string participantIdentity, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>
/// For a handler that needs the room itself (avatar mode: byte streams and RPC): each room the link joins, before its
/// events flow, and every event of it after the link has handled it.
/// </summary>
public interface ILiveKitRoomObserver
{
    ValueTask OnJoinedAsync(LiveKitRoom room, CancellationToken cancellationToken);

    ValueTask OnRoomEventAsync(LiveKitRoomEvent roomEvent, CancellationToken cancellationToken);
}

/// <summary>
/// A conversation's way out to its LiveKit room, as the session sees it: raw frames for the replica's tracks (LiveKit
/// encodes them), interactions-protocol messages in order, and a flush of queued audio on interruption.
/// </summary>
public interface ILiveKitRoomLink : IMediaOutput, IAsyncDisposable
{
    /// <summary>Queues one interactions-protocol message (JSON) for every participant; sent in order, reliably, while in a room.</summary>
    void Post(ReadOnlyMemory<byte> json);

    /// <summary>Drops the replica's audio queued but not yet played (an interruption).</summary>
    void Flush();
}

/// <summary>
/// A conversation on LiveKit, seen from the render worker: joins the room, publishes the session's output
/// (<see cref="IMediaOutput"/>; its app messages through <see cref="Post"/>), feeds every user's microphone and messages to the handler, rides out network loss (the
/// library resumes by itself; when the room is lost for good the link rejoins with a fresh token, backing off), and
/// leaves cleanly on <see cref="DisposeAsync"/>. While it is not in a room, output frames are dropped (and counted).
/// </summary>
public sealed class LiveKitConversationLink : IMediaOutput, ILiveKitRoomLink
{
    private readonly FfiClient client;
    private readonly LiveKitLinkOptions options;
    private readonly ILiveKitConversationHandler handler;
    private readonly TimeProvider time;
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private readonly Channel<ReadOnlyMemory<byte>> outbox = Channel.CreateBounded<ReadOnlyMemory<byte>>(
        new BoundedChannelOptions(1024) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });
    private LiveKitRoom? room;
    private Task? sending;
    private LiveKitMediaSink? sink;
    private Task? run;
    private long droppedFrames;
    private int joins;

    private LiveKitConversationLink(FfiClient client, LiveKitLinkOptions options, ILiveKitConversationHandler handler, TimeProvider time)
    {
        this.client = client;
        this.options = options;
        this.handler = handler;
        this.time = time;
    }

    /// <summary>Output frames dropped while the link was between rooms.</summary>
    public long DroppedFrames => Interlocked.Read(ref droppedFrames);

    /// <summary>Times the room was joined (1 + rejoins).</summary>
    public int Joins => Volatile.Read(ref joins);

    public bool IsConnected
    {
        get
        {
            lock (gate) return sink is not null;
        }
    }

    /// <summary>Joins and publishes; returns once the tracks are published (throws when the first join fails).</summary>
    public static Task<LiveKitConversationLink> StartAsync(LiveKitLinkOptions options, ILiveKitConversationHandler handler,
        TimeProvider? time = null, CancellationToken cancellationToken = default) =>
        StartAsync(FfiClient.Instance, options, handler, time, cancellationToken);

    internal static async Task<LiveKitConversationLink> StartAsync(FfiClient client, LiveKitLinkOptions options, ILiveKitConversationHandler handler,
        TimeProvider? time, CancellationToken cancellationToken)
    {
        var link = new LiveKitConversationLink(client, options, handler, time ?? TimeProvider.System);
        var first = await link.JoinAsync(cancellationToken).ConfigureAwait(false);
        link.run = Task.Run(() => link.RunAsync(first, link.stopping.Token));
        link.sending = Task.Run(() => link.SendLoopAsync(link.stopping.Token));
        return link;
    }

    private async Task<LiveKitRoom> JoinAsync(CancellationToken cancellationToken)
    {
        var token = await options.Token(cancellationToken).ConfigureAwait(false);
        var joined = await LiveKitRoom.ConnectAsync(client, options.Url, token, new LiveKitConnectOptions(), cancellationToken).ConfigureAwait(false);
        try
        {
            var published = await LiveKitMediaSink.PublishAsync(joined, options.AudioOnly, options.Width, options.Height, cancellationToken)
                .ConfigureAwait(false);
            lock (gate)
            {
                room = joined;
                sink = published;
            }
            Interlocked.Increment(ref joins);
            if (handler is ILiveKitRoomObserver observer)
            {
                await observer.OnJoinedAsync(joined, cancellationToken).ConfigureAwait(false);
            }
            return joined;
        }
        catch
        {
            await joined.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task RunAsync(LiveKitRoom current, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            var reason = await PumpAsync(current, cancellationToken).ConfigureAwait(false);
            await DetachAsync().ConfigureAwait(false);
            if (cancellationToken.IsCancellationRequested || reason is DisconnectReason.ClientInitiated or DisconnectReason.RoomDeleted
                or DisconnectReason.RoomClosed or DisconnectReason.ParticipantRemoved or DisconnectReason.DuplicateIdentity)
            {
                return; // the conversation is over (or someone else took our place): no rejoin
            }
            var rejoined = await RejoinAsync(cancellationToken).ConfigureAwait(false);
            if (rejoined is null) return;
            current = rejoined;
        }
    }

    private async Task<LiveKitRoom?> RejoinAsync(CancellationToken cancellationToken)
    {
        foreach (var delay in options.RejoinBackoff)
        {
            try
            {
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                return await JoinAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (FfiException)
            {
                // try again after the next delay
            }
            catch (OperationCanceledException)
            {
                return null;
            }
        }
        return null;
    }

    /// <summary>Handles one room's events until it is gone; returns why it went.</summary>
    private async Task<DisconnectReason> PumpAsync(LiveKitRoom current, CancellationToken cancellationToken)
    {
        var microphones = new Dictionary<string, (RemoteAudioStream Stream, Task Pump)>();
        try
        {
            foreach (var participant in current.Participants.Values) OpenMicrophone(current, participant, microphones, cancellationToken);
            await foreach (var ev in current.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                switch (ev)
                {
                    case ParticipantJoined joined:
                        OpenMicrophone(current, joined.Participant, microphones, cancellationToken);
                        break;
                    case ParticipantLeft left:
                        if (microphones.Remove(left.Identity, out var mic)) mic.Stream.Dispose();
                        await handler.OnParticipantLeftAsync(left.Identity, cancellationToken).ConfigureAwait(false);
                        break;
                    case DataReceived { Topic: LiveKitMediaSink.InteractionsTopic } data:
                        await handler.OnMessageAsync(data.ParticipantIdentity, data.Data, cancellationToken).ConfigureAwait(false);
                        break;
                    case RoomDisconnected gone:
                        if (handler is ILiveKitRoomObserver last) await last.OnRoomEventAsync(ev, cancellationToken).ConfigureAwait(false);
                        return gone.Reason;
                }
                if (handler is ILiveKitRoomObserver observer)
                {
                    await observer.OnRoomEventAsync(ev, cancellationToken).ConfigureAwait(false);
                }
            }
            return DisconnectReason.ClientInitiated;
        }
        catch (OperationCanceledException)
        {
            return DisconnectReason.ClientInitiated;
        }
        finally
        {
            foreach (var (stream, _) in microphones.Values) stream.Dispose();
        }
    }

    private void OpenMicrophone(LiveKitRoom current, RemoteParticipant participant, Dictionary<string, (RemoteAudioStream, Task)> microphones,
        CancellationToken cancellationToken)
    {
        if (!options.ListenToMicrophones || participant.Kind != ParticipantKind.Standard || microphones.ContainsKey(participant.Identity)) return;
        var stream = current.OpenAudioStream(participant, options.MicrophoneSampleRate);
        var identity = participant.Identity;
        var pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var frame in stream.Frames.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    await handler.OnMicrophoneAsync(identity, frame, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        microphones[identity] = (stream, pump);
    }

    private async Task DetachAsync()
    {
        LiveKitRoom? oldRoom;
        LiveKitMediaSink? oldSink;
        lock (gate)
        {
            oldRoom = room;
            oldSink = sink;
            room = null;
            sink = null;
        }
        if (oldSink is not null) await oldSink.DisposeAsync().ConfigureAwait(false);
        if (oldRoom is not null) await oldRoom.DisposeAsync().ConfigureAwait(false);
    }

    private LiveKitMediaSink? Current
    {
        get
        {
            lock (gate) return sink;
        }
    }

    public ValueTask SendVideoAsync(I420Frame frame, CancellationToken cancellationToken)
    {
        if (Current is { } s) return s.SendVideoAsync(frame, cancellationToken);
        Interlocked.Increment(ref droppedFrames);
        frame.Dispose();
        return ValueTask.CompletedTask;
    }

    public ValueTask SendAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
    {
        if (Current is { } s) return s.SendAudioAsync(frame, cancellationToken);
        Interlocked.Increment(ref droppedFrames);
        frame.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Messages posted while between rooms or over the queue's 1,024 are dropped (the conversation keeps its events).</summary>
    public void Post(ReadOnlyMemory<byte> json) => outbox.Writer.TryWrite(json);

    public void Flush() => Current?.Flush();

    /// <summary>Sends posted messages one at a time, so they arrive in the order they were posted.</summary>
    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var json in outbox.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                LiveKitRoom? current;
                lock (gate) current = room;
                if (current is null)
                {
                    continue;
                }
                try
                {
                    await current.PublishDataAsync(json, LiveKitMediaSink.InteractionsTopic, reliable: true, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                catch (FfiException)
                {
                    // the room went away under the send: as if posted between rooms
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Sends what was posted (for at most two seconds), leaves the room (tracks unpublished, every handle dropped) and stops rejoining.</summary>
    public async ValueTask DisposeAsync()
    {
        outbox.Writer.TryComplete();
        if (sending is not null)
        {
            await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false); // a guard, not a clock
        }
        await stopping.CancelAsync().ConfigureAwait(false);
        await DetachAsync().ConfigureAwait(false);
        if (run is not null) await run.ConfigureAwait(false);
        if (sending is not null) await sending.ConfigureAwait(false);
        stopping.Dispose();
    }
}
