using System.Buffers.Binary;
using System.Threading.Channels;
using Platform.LiveKit.Ffi.Rooms;
using Platform.Render.Audio;

namespace Platform.LiveKit.Ffi.Avatar;

/// <summary>
/// Avatar mode: the worker is the face of a tenant's own LiveKit agent. Byte streams on <c>lk.audio_stream</c> are
/// speech segments, resampled to 48 kHz mono and pushed to the <see cref="IAvatarAudioSink"/>; RPC
/// <c>lk.clear_buffer</c> interrupts; the agent is told <c>lk.playback_started</c> when a segment starts playing and
/// <c>lk.playback_finished</c> {<c>playback_position</c>, <c>interrupted</c>} when it ends or is cut off. It either
/// reads a room's events itself (<see cref="StartAsync"/>) or is fed them by whoever pumps the room (a conversation's
/// link: <see cref="Attach"/> on every (re)join, <see cref="HandleAsync"/> per event, <see cref="StartSegments"/> once).
/// </summary>
public sealed class AvatarSession : IAsyncDisposable
{
    private static readonly AudioFormat Output = AudioFormat.Output48k;
    private const int FrameSamples = 960; // 20 ms at 48 kHz

    private LiveKitRoom? room;
    private readonly IAvatarAudioSink sink;
    private readonly string? agentIdentity;
    private readonly Channel<(ByteStreamReader Reader, long Epoch)> segments = Channel.CreateUnbounded<(ByteStreamReader, long)>();
    private readonly CancellationTokenSource stopping = new();
    private readonly Lock gate = new();
    private long epoch;
    private Segment? active;
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
    public void StartSegments() => run ??= Task.Run(() => SegmentLoopAsync(stopping.Token));

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

    /// <summary>Segments played to the end, and segments interrupted.</summary>
    public (int Finished, int Interrupted) Segments => (finished, interrupted);

    private int finished;
    private int interrupted;

    /// <summary>Registers <c>lk.clear_buffer</c> and starts handling the room's events; completes when the room is gone.</summary>
    public Task StartAsync()
    {
        var own = room ?? throw new InvalidOperationException("This session is fed by its room's pump: call Attach and HandleAsync.");
        Attach(own);
        run = Task.WhenAll(Task.Run(() => EventLoopAsync(own, stopping.Token)), Task.Run(() => SegmentLoopAsync(stopping.Token)));
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

    private async Task ClearAsync(RpcInvocation invocation, CancellationToken cancellationToken)
    {
        Segment? cut;
        lock (gate)
        {
            Interlocked.Increment(ref epoch);
            cut = active;
            active = null;
        }
        var position = await sink.ClearAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Read(ref room)?.RespondToRpc(invocation, "ok");
        if (cut is not null)
        {
            Interlocked.Increment(ref interrupted);
            await NotifyFinishedAsync(cut.Sender, position, interrupted: true, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task SegmentLoopAsync(CancellationToken cancellationToken)
    {
        await foreach (var (reader, segmentEpoch) in segments.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (segmentEpoch != Interlocked.Read(ref epoch))
            {
                await DrainAsync(reader, cancellationToken).ConfigureAwait(false); // sent before an interruption: flushed
                continue;
            }
            await PlaySegmentAsync(reader, segmentEpoch, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task PlaySegmentAsync(ByteStreamReader reader, long segmentEpoch, CancellationToken cancellationToken)
    {
        var rate = AvatarProtocol.TryParseInt(reader.Attributes, AvatarProtocol.SampleRateAttribute, out var r) && r > 0 ? r : AvatarProtocol.DefaultSampleRate;
        var channels = AvatarProtocol.TryParseInt(reader.Attributes, AvatarProtocol.ChannelsAttribute, out var c) && c > 0 ? c : 1;
        var segment = new Segment(reader.ParticipantIdentity, new PcmAssembler(rate, channels));
        lock (gate)
        {
            if (segmentEpoch != Interlocked.Read(ref epoch)) return;
            active = segment;
        }

        var current = true;
        try
        {
            await foreach (var chunk in reader.Chunks.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                current = IsCurrent(segment);
                if (!current) continue; // interrupted: the rest of the stream is read and dropped
                foreach (var frame in segment.Assembler.Push(chunk.Span))
                {
                    await PushAsync(segment, frame, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (FfiException)
        {
            // The sender aborted the stream: what arrived is played and the segment ends normally.
        }
        if (!IsCurrent(segment)) return;
        foreach (var frame in segment.Assembler.Flush())
        {
            await PushAsync(segment, frame, cancellationToken).ConfigureAwait(false);
        }
        if (!segment.Started) await StartedAsync(segment, cancellationToken).ConfigureAwait(false); // an empty segment still starts and ends
        var played = await sink.EndSegmentAsync(cancellationToken).ConfigureAwait(false);
        lock (gate)
        {
            if (!ReferenceEquals(active, segment)) return; // a clear won the race: it reports the interruption
            active = null;
        }
        Interlocked.Increment(ref finished);
        await NotifyFinishedAsync(segment.Sender, played, interrupted: false, cancellationToken).ConfigureAwait(false);
    }

    private bool IsCurrent(Segment segment)
    {
        lock (gate) return ReferenceEquals(active, segment);
    }

    private async Task PushAsync(Segment segment, PcmFrame frame, CancellationToken cancellationToken)
    {
        if (!segment.Started) await StartedAsync(segment, cancellationToken).ConfigureAwait(false);
        await sink.PushSegmentAudioAsync(frame, cancellationToken).ConfigureAwait(false);
    }

    private async Task StartedAsync(Segment segment, CancellationToken cancellationToken)
    {
        segment.Started = true;
        await CallAgentAsync(segment.Sender, AvatarProtocol.PlaybackStartedMethod, "{}", cancellationToken).ConfigureAwait(false);
    }

    private Task NotifyFinishedAsync(string sender, TimeSpan position, bool interrupted, CancellationToken cancellationToken) =>
        CallAgentAsync(sender, AvatarProtocol.PlaybackFinishedMethod, AvatarProtocol.PlaybackFinishedPayload(position, interrupted), cancellationToken);

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

    private sealed class Segment(string sender, PcmAssembler assembler)
    {
        public string Sender { get; } = sender;

        public PcmAssembler Assembler { get; } = assembler;

        public bool Started { get; set; }
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
