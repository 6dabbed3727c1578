using System.Buffers.Binary;
using System.Threading.Channels;
using Platform.LiveKit.Ffi.Rooms;
using Platform.Render.Audio;

namespace Platform.LiveKit.Ffi.Avatar;

/// <summary>
/// Avatar mode: the worker is the face of a tenant's own LiveKit agent. Byte streams on <c>lk.audio_stream</c> are
/// speech segments, resampled to 48 kHz mono and pushed to the <see cref="IAvatarAudioSink"/> as they arrive, so the
/// next segment is queued while the one before it plays and they play back to back; RPC <c>lk.clear_buffer</c>
/// interrupts. The agent is told, in segment order, <c>lk.playback_started</c> when a segment starts playing and
/// <c>lk.playback_finished</c> {<c>playback_position</c>, <c>interrupted</c>} when it ends: once per segment it sent,
/// a segment a clear dropped before it played included (position 0, interrupted), so the agent's count of segments
/// played out matches its count of segments sent. It either reads a room's events itself (<see cref="StartAsync"/>)
/// or is fed them by whoever pumps the room (a conversation's link: <see cref="Attach"/> on every (re)join,
/// <see cref="HandleAsync"/> per event, <see cref="StartSegments"/> once).
/// </summary>
public sealed class AvatarSession : IAsyncDisposable
{
    private static readonly AudioFormat Output = AudioFormat.Output48k;
    private const int FrameSamples = 960; // 20 ms at 48 kHz

    private LiveKitRoom? room;
    private readonly IAvatarAudioSink sink;
    private readonly string? agentIdentity;
    private readonly Channel<(ByteStreamReader Reader, long Epoch)> segments = Channel.CreateUnbounded<(ByteStreamReader, long)>();
    private readonly Channel<(string Sender, SegmentPlayout Playout)> playouts = Channel.CreateUnbounded<(string, SegmentPlayout)>();
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private long epoch; // bumped by every clear: a segment sent before it is dropped
    private Task? run;

    /// <param name="room">The tenant's room, joined with the worker token.</param>
    /// <param name="sink">Where the speech goes.</param>
    /// <param name="agentIdentity">The agent whose speech is rendered (<c>lk.publish_on_behalf</c>); when null, whoever sends the stream.</param>
    public AvatarSession(LiveKitRoom room, IAvatarAudioSink sink, string? agentIdentity = null)
        : this(sink, agentIdentity)
    {
        this.room = room;
    }

    /// <summary>A session fed by the room's pump: <see cref="Attach"/> each room joined, <see cref="HandleAsync"/> its events.</summary>
    public AvatarSession(IAvatarAudioSink sink, string? agentIdentity = null)
    {
        this.sink = sink;
        this.agentIdentity = agentIdentity;
    }

    /// <summary>The room joined (again): <c>lk.clear_buffer</c> is registered on it and the agent is called through it.</summary>
    public void Attach(LiveKitRoom joined)
    {
        joined.RegisterRpcMethod(AvatarProtocol.ClearBufferMethod);
        Volatile.Write(ref room, joined);
    }

    /// <summary>Starts playing the segments <see cref="HandleAsync"/> receives (once).</summary>
    public void StartSegments() => run ??= Task.WhenAll(Task.Run(() => SegmentLoopAsync(stopping.Token)), Task.Run(() => NotifyLoopAsync(stopping.Token)));

    /// <summary>One of the room's events; false once the room disconnected.</summary>
    public async ValueTask<bool> HandleAsync(LiveKitRoomEvent ev, CancellationToken cancellationToken)
    {
        switch (ev)
        {
            case ByteStreamReceived { Reader.Topic: AvatarProtocol.AudioStreamTopic } opened when IsAgent(opened.Reader.ParticipantIdentity):
                segments.Writer.TryWrite((opened.Reader, Interlocked.Read(ref epoch)));
                return true;
            case RpcInvoked { Invocation.Method: AvatarProtocol.ClearBufferMethod } rpc:
                await ClearAsync(rpc.Invocation, cancellationToken).ConfigureAwait(false);
                return true;
            case RoomDisconnected:
                return false;
            default:
                return true;
        }
    }

    /// <summary>Segments reported played to the end, and segments reported interrupted.</summary>
    public (int Finished, int Interrupted) Segments => (finished, interrupted);

    private int finished;
    private int interrupted;

    /// <summary>Registers <c>lk.clear_buffer</c> and starts handling the room's events; completes when the room is gone.</summary>
    public Task StartAsync()
    {
        var own = room ?? throw new InvalidOperationException("This session is fed by its room's pump: call Attach and HandleAsync.");
        Attach(own);
        StartSegments();
        run = Task.WhenAll(Task.Run(() => EventLoopAsync(own, stopping.Token)), run!);
        return Task.CompletedTask;
    }

    /// <summary>Completes when the room disconnected (or the session was disposed).</summary>
    public Task Completion => run ?? Task.CompletedTask;

    private async Task EventLoopAsync(LiveKitRoom own, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var ev in own.Events.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!await HandleAsync(ev, cancellationToken).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        finally
        {
            segments.Writer.TryComplete();
        }
    }

    private bool IsAgent(string identity) => agentIdentity is null || identity == agentIdentity;

    private bool IsCleared(long segmentEpoch) => segmentEpoch != Interlocked.Read(ref epoch);

    /// <summary>
    /// <c>lk.clear_buffer</c>: every segment sent so far is void (the sink ends those it began as interrupted; the
    /// loops drop the rest); answered at once, the notifications follow as the sink reports what was heard.
    /// </summary>
    private async Task ClearAsync(RpcInvocation invocation, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            Interlocked.Increment(ref epoch);
        }
        await sink.ClearAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Read(ref room)?.RespondToRpc(invocation, "ok");
    }

    private async Task SegmentLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var (reader, segmentEpoch) in segments.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                SegmentPlayout? playout = null;
                lock (gate)
                {
                    // Under the gate: a clear either voids this segment before it begins or finds it begun in the sink.
                    if (!IsCleared(segmentEpoch)) playout = sink.BeginSegment();
                }
                if (playout is null)
                {
                    // Sent before an interruption: flushed unheard, and reported so.
                    playouts.Writer.TryWrite((reader.ParticipantIdentity, SegmentPlayout.Dropped()));
                    await DrainAsync(reader, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                playouts.Writer.TryWrite((reader.ParticipantIdentity, playout));
                await ReceiveSegmentAsync(reader, segmentEpoch, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            playouts.Writer.TryComplete();
        }
    }

    /// <summary>Pushes a segment's audio to the sink as it arrives and ends it; does not wait for it to play.</summary>
    private async Task ReceiveSegmentAsync(ByteStreamReader reader, long segmentEpoch, CancellationToken cancellationToken)
    {
        var rate = AvatarProtocol.TryParseInt(reader.Attributes, AvatarProtocol.SampleRateAttribute, out var r) && r > 0 ? r : AvatarProtocol.DefaultSampleRate;
        var channels = AvatarProtocol.TryParseInt(reader.Attributes, AvatarProtocol.ChannelsAttribute, out var c) && c > 0 ? c : 1;
        var assembler = new PcmAssembler(rate, channels);
        try
        {
            await foreach (var chunk in reader.Chunks.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                if (IsCleared(segmentEpoch)) continue; // interrupted: the rest of the stream is read and dropped
                await PushAsync(assembler.Push(chunk.Span), segmentEpoch, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (FfiException)
        {
            // The sender aborted the stream: what arrived is played and the segment ends normally.
        }
        if (IsCleared(segmentEpoch)) return;
        await PushAsync(assembler.Flush(), segmentEpoch, cancellationToken).ConfigureAwait(false);
        await sink.EndSegmentAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task PushAsync(IEnumerable<PcmFrame> frames, long segmentEpoch, CancellationToken cancellationToken)
    {
        foreach (var frame in frames)
        {
            if (IsCleared(segmentEpoch))
            {
                frame.Dispose();
                continue;
            }
            await sink.PushSegmentAudioAsync(frame, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Tells the agent, segment by segment in the order it sent them, when each started and how it ended.</summary>
    private async Task NotifyLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (var (sender, playout) in playouts.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await Task.WhenAny(playout.Started, playout.Ended).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (playout.HasStarted)
            {
                await CallAgentAsync(sender, AvatarProtocol.PlaybackStartedMethod, "{}", cancellationToken).ConfigureAwait(false);
            }
            var end = await playout.Ended.WaitAsync(cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref end.Interrupted ? ref interrupted : ref finished);
            await CallAgentAsync(sender, AvatarProtocol.PlaybackFinishedMethod, AvatarProtocol.PlaybackFinishedPayload(end.Position, end.Interrupted), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CallAgentAsync(string sender, string method, string payload, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref room) is not { } current)
        {
            return; // between rooms: the agent is told nothing of a segment it can no longer hear
        }
        try
        {
            await current.PerformRpcAsync(agentIdentity ?? sender, method, payload, TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or FfiException)
        {
            // The agent may not implement the notification (older framework versions); playback goes on.
        }
    }

    private static async Task DrainAsync(ByteStreamReader reader, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var _ in reader.Chunks.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
            }
        }
        catch (FfiException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync().ConfigureAwait(false);
        if (run is not null)
        {
            try
            {
                await run.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        stopping.Dispose();
    }

    /// <summary>Raw little-endian 16-bit PCM chunks (split anywhere) → 20 ms frames of 48 kHz mono, segment-relative time.</summary>
    internal sealed class PcmAssembler(int sampleRate, int channels)
    {
        private readonly Resampler resampler = new(sampleRate, Output.SampleRate);
        private readonly List<byte> carry = [];
        private readonly List<short> pending = [];
        private long emitted;

        public IEnumerable<PcmFrame> Push(ReadOnlySpan<byte> chunk)
        {
            carry.AddRange(chunk.ToArray());
            var frameBytes = 2 * channels;
            var whole = carry.Count / frameBytes * frameBytes;
            if (whole == 0) return [];
            var bytes = carry.GetRange(0, whole).ToArray();
            carry.RemoveRange(0, whole);
            var mono = new short[whole / frameBytes];
            for (var i = 0; i < mono.Length; i++)
            {
                var sum = 0;
                for (var ch = 0; ch < channels; ch++) sum += BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan((i * channels + ch) * 2));
                mono[i] = (short)(sum / channels);
            }
            pending.AddRange(resampler.Process(mono));
            return Frames(final: false);
        }

        public IEnumerable<PcmFrame> Flush() => Frames(final: true);

        private List<PcmFrame> Frames(bool final)
        {
            var frames = new List<PcmFrame>();
            while (pending.Count >= FrameSamples || (final && pending.Count > 0))
            {
                var n = Math.Min(FrameSamples, pending.Count);
                var samples = pending.GetRange(0, n).ToArray();
                pending.RemoveRange(0, n);
                frames.Add(PcmFrame.Rent(samples, Output, Output.DurationOf(emitted)));
                emitted += n;
            }
            return frames;
        }
    }
}
