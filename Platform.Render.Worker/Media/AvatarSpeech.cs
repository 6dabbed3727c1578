using Platform.LiveKit.Ffi.Avatar;
using Platform.Render.Audio;
using Platform.Render.Sessions;

namespace Platform.Render.Worker.Media;

/// <summary>
/// Avatar mode's speech into the engine: each segment of the tenant agent's audio is one <c>conversation.echo</c>
/// utterance of the session (its own inference id; the mouth follows the audio's envelope). The session queues them,
/// so a segment pushed while the one before it plays follows it without a gap. A segment's playout starts on the
/// session's <c>replica.started_speaking</c> for it and ends on its <c>replica.stopped_speaking</c>, whose duration is
/// what was played (a <c>replica_interrupted</c> before it marks it cut), so <c>lk.playback_finished</c> tells the
/// agent what was heard. A clear is an interruption: queued segments end unheard.
/// </summary>
public sealed class AvatarSpeech(ConversationSession session) : IAvatarAudioSink
{
    /// <summary>A guard (real time) on waiting for the session to report a segment stopped after a clear.</summary>
    private static readonly TimeSpan ClearGuard = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Segment> _open = []; // begun and not yet ended: the session may still report on them
    private Segment? _current; // the one being pushed
    private int _segments;

    public SegmentPlayout BeginSegment()
    {
        lock (_gate)
        {
            var segment = new Segment($"avatar-{++_segments}");
            _open[segment.InferenceId] = segment;
            _current = segment;
            return segment.Playout;
        }
    }

    public async ValueTask PushSegmentAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
    {
        using (frame)
        {
            Segment? segment;
            lock (_gate)
            {
                segment = _current;
                if (segment is not null) segment.Pushed = true;
            }
            if (segment is null)
            {
                return; // cleared: the rest of the segment is not said
            }
            await session.EchoAudioAsync(frame.Samples.ToArray(), frame.Format.SampleRate, done: false, segment.InferenceId, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask EndSegmentAsync(CancellationToken cancellationToken)
    {
        Segment? segment;
        lock (_gate)
        {
            segment = _current;
            _current = null;
        }
        if (segment is null)
        {
            return; // cleared before its end
        }
        if (!segment.Pushed)
        {
            segment.Playout.Start(); // nothing to say: it starts and ends at once
            Close(segment, TimeSpan.Zero, interrupted: false);
            return;
        }
        await session.EchoAudioAsync(ReadOnlyMemory<short>.Empty, AudioFormat.Output48k.SampleRate, done: true, segment.InferenceId, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask ClearAsync(CancellationToken cancellationToken)
    {
        List<Segment> open;
        lock (_gate)
        {
            open = [.. _open.Values];
            _current = null;
        }
        await session.InterruptAsync(cancellationToken).ConfigureAwait(false);
        foreach (var segment in open)
        {
            if (!segment.Playout.HasStarted)
            {
                Close(segment, TimeSpan.Zero, interrupted: true); // dropped before it played
            }
            else
            {
                _ = GuardAsync(segment);
            }
        }
    }

    /// <summary>The session reports a cut segment stopped; if it does not within the guard, it ends with nothing known heard.</summary>
    private async Task GuardAsync(Segment segment)
    {
        try
        {
            await segment.Playout.Ended.WaitAsync(ClearGuard).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Close(segment, TimeSpan.Zero, interrupted: true);
        }
    }

    private void Close(Segment segment, TimeSpan heard, bool interrupted)
    {
        lock (_gate)
        {
            _open.Remove(segment.InferenceId);
        }
        segment.Playout.End(heard, interrupted);
    }

    /// <summary>The session's events: a segment started, was cut, or stopped (played to the end or cut off).</summary>
    public void OnSessionEvent(SessionEvent e)
    {
        Segment? segment;
        lock (_gate)
        {
            segment = e.InferenceId is { } id ? _open.GetValueOrDefault(id) : null;
        }
        if (segment is null)
        {
            return;
        }
        switch (e.Type)
        {
            case SessionEventTypes.ReplicaStartedSpeaking:
                segment.Playout.Start();
                break;
            case SessionEventTypes.ReplicaInterrupted:
                segment.Cut = true;
                break;
            case SessionEventTypes.ReplicaStoppedSpeaking:
                Close(segment, e.Duration ?? TimeSpan.Zero, segment.Cut);
                break;
        }
    }

    private sealed class Segment(string inferenceId)
    {
        public string InferenceId { get; } = inferenceId;

        public SegmentPlayout Playout { get; } = new();

        public volatile bool Pushed;

        public volatile bool Cut;
    }
}
