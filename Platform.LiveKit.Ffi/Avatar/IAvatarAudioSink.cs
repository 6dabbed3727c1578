using Platform.Render.Audio;

namespace Platform.LiveKit.Ffi.Avatar;

/// <summary>
/// Where avatar mode sends the tenant agent's speech: the session that lip-syncs it and plays it out (its audio goes
/// to the room with the video). Segments are pipelined: the next one may begin and be pushed while earlier ones are
/// still playing, and they play in order, back to back. Calls come from one task, except <see cref="ClearAsync"/>.
/// </summary>
public interface IAvatarAudioSink
{
    /// <summary>Begins the next segment (the previous one, if any, was ended): its playout says when it starts and how it ends.</summary>
    SegmentPlayout BeginSegment();

    /// <summary>The next 20 ms (or shorter, at a segment's end) of the current segment: 48 kHz mono, segment-relative media time. Dropped once the segment was cleared.</summary>
    ValueTask PushSegmentAudioAsync(PcmFrame frame, CancellationToken cancellationToken);

    /// <summary>The current segment is complete: returns once that is queued, not once it played (its playout tells).</summary>
    ValueTask EndSegmentAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Interrupt: stop speaking now and drop what is queued. Every segment begun and not yet ended ends interrupted,
    /// the one playing with how much of it was heard, the others with nothing. Returns without waiting for that.
    /// </summary>
    ValueTask ClearAsync(CancellationToken cancellationToken);
}

/// <summary>How a segment ended: how much of it was played, and whether a clear cut it.</summary>
public readonly record struct PlaybackEnd(TimeSpan Position, bool Interrupted);

/// <summary>One segment's playout, completed by the sink: <see cref="Started"/> when its audio begins to play (never, when cut first), <see cref="Ended"/> always.</summary>
public sealed class SegmentPlayout
{
    private readonly TaskCompletionSource started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<PlaybackEnd> ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Started => started.Task;

    public Task<PlaybackEnd> Ended => ended.Task;

    public bool IsEnded => ended.Task.IsCompleted;

    public bool HasStarted => started.Task.IsCompleted;

    /// <summary>Its audio began to play.</summary>
    public void Start() => started.TrySetResult();

    /// <summary>It ended (the first end reported wins).</summary>
    public void End(TimeSpan position, bool interrupted) => ended.TrySetResult(new PlaybackEnd(position, interrupted));

    /// <summary>A segment a clear voided before it began: never started, ended interrupted with nothing heard.</summary>
    public static SegmentPlayout Dropped()
    {
        var playout = new SegmentPlayout();
        playout.End(TimeSpan.Zero, interrupted: true);
        return playout;
    }
}
