using Platform.Render.Audio;

namespace Platform.LiveKit.Ffi.Avatar;

/// <summary>
/// Where avatar mode sends the tenant agent's speech: the session that lip-syncs it and plays it out (its audio goes
/// to the room with the video). One segment at a time; calls come from one task, except <see cref="ClearAsync"/>,
/// which may arrive while a push or <see cref="EndSegmentAsync"/> is pending and must make them return promptly.
/// </summary>
public interface IAvatarAudioSink
{
    /// <summary>The next 20 ms (or shorter, at a segment's end) of the current segment: 48 kHz mono, segment-relative media time.</summary>
    ValueTask PushSegmentAudioAsync(PcmFrame frame, CancellationToken cancellationToken);

    /// <summary>The segment is complete: returns once it has been played out, with how much of it was played.</summary>
    ValueTask<TimeSpan> EndSegmentAsync(CancellationToken cancellationToken);

    /// <summary>Interrupt: stop speaking now, drop what is queued, return how much of the current segment was played.</summary>
    ValueTask<TimeSpan> ClearAsync(CancellationToken cancellationToken);
}
