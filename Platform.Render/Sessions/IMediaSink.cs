using Platform.Render.Audio;
using Platform.Render.Face;

namespace Platform.Render.Sessions;

/// <summary>
/// Where a session's media goes (a LiveKit room's tracks, an encoder): frames only. Calls come from one task, in
/// media-time order. The output owns the frames it is given and disposes them when sent.
/// </summary>
public interface IMediaOutput
{
    /// <summary>One I420 video frame at the session's frame rate, stamped with media time.</summary>
    ValueTask SendVideoAsync(I420Frame frame, CancellationToken cancellationToken);

    /// <summary>One 20 ms frame of 48 kHz mono audio (silence between utterances), stamped with media time.</summary>
    ValueTask SendAudioAsync(PcmFrame frame, CancellationToken cancellationToken);
}

/// <summary>
/// Where a session's output goes (the live session with its pages and room, a file, a test collector): its media
/// and its app events; the pipeline does not know which.
/// </summary>
public interface IMediaSink : IMediaOutput
{

    /// <summary>An app event (<c>utterance</c>, <c>replica.started_speaking</c>...).</summary>
    ValueTask SendEventAsync(SessionEvent sessionEvent, CancellationToken cancellationToken);
}
