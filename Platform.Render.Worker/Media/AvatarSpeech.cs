using Platform.LiveKit.Ffi.Avatar;
using Platform.Render.Audio;
using Platform.Render.Sessions;

namespace Platform.Render.Worker.Media;

/// <summary>
/// Avatar mode's speech into the engine: each segment of the tenant agent's audio is one <c>conversation.echo</c>
/// utterance of the session (its own inference id; the mouth follows the audio's envelope), a segment ends once the
/// session reports it stopped speaking it, and a clear is an interruption. How much was played comes from the
/// session's own <c>replica.stopped_speaking</c> duration, so <c>lk.playback_finished</c> tells the agent what was heard.
/// </summary>
public sealed class AvatarSpeech(ConversationSession session) : IAvatarAudioSink
{
    /// <summary>A guard (real time) on waiting for the session to report a segment stopped after a clear.</summary>
    private static readonly TimeSpan ClearGuard = TimeSpan.FromSeconds(2);

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Segment> _open = []; // segments the session may still report on
    private Segment? _current;
    private int _segments;

    public async ValueTask PushSegmentAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
    {
        using (frame)
        {
            Segment segment;
            lock (_gate)
            {
                if (_current is null)
                {
                    _current = new Segment($"avatar-{Interlocked.Increment(ref _segments)}");
                    _open[_current.InferenceId] = _current;
                }
                segment = _current;
                segment.Pushed = true;
            }
            await session.EchoAudioAsync(frame.Samples.ToArray(), frame.Format.SampleRate, done: false, segment.InferenceId, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask<TimeSpan> EndSegmentAsync(CancellationToken cancellationToken)
    {
        Segment? segment;
        lock (_gate)
        {
            segment = _current;
        }
        if (segment is null || !segment.Pushed)
        {
            lock (_gate)
            {
                _current = null;
            }
            return TimeSpan.Zero; // nothing was said
        }
        await session.EchoAudioAsync(ReadOnlyMemory<short>.Empty, AudioFormat.Output48k.SampleRate, done: true, segment.InferenceId, cancellationToken).ConfigureAwait(false);
        var played = await segment.Stopped.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (ReferenceEquals(_current, segment)) _current = null;
        }
        return played;
    }

    public async ValueTask<TimeSpan> ClearAsync(CancellationToken cancellationToken)
    {
        Segment? segment;
        lock (_gate)
        {
            segment = _current;
            _current = null;
        }
        await session.InterruptAsync(cancellationToken).ConfigureAwait(false);
        if (segment is null)
        {
            return TimeSpan.Zero;
        }
        if (!segment.Started)
        {
            Close(segment, TimeSpan.Zero); // dropped before it played
            return TimeSpan.Zero;
        }
        try
        {
            return await segment.Stopped.Task.WaitAsync(ClearGuard, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Close(segment, segment.Heard);
            return segment.Heard;
        }
    }

    private void Close(Segment segment, TimeSpan heard)
    {
        lock (_gate)
        {
            _open.Remove(segment.InferenceId);
        }
        segment.Stopped.TrySetResult(heard);
    }

    /// <summary>The session's events: a segment started, or stopped (played to the end or cut off).</summary>
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
        if (e.Type == SessionEventTypes.ReplicaStartedSpeaking)
        {
            segment.Started = true;
        }
        else if (e.Type == SessionEventTypes.ReplicaStoppedSpeaking)
        {
            segment.Heard = e.Duration ?? TimeSpan.Zero;
            Close(segment, segment.Heard);
        }
    }

    private sealed class Segment(string inferenceId)
    {
        public string InferenceId { get; } = inferenceId;

        public volatile bool Pushed;

        public volatile bool Started;

        public TimeSpan Heard;

        public TaskCompletionSource<TimeSpan> Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
