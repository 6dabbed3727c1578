using Platform.Render.Video;

namespace Platform.Render.Worker.Media;

/// <summary>Makes a session's video encoder (width, height, frames per second); null when this worker cannot encode
/// video (the session then goes on voice-only and says so).</summary>
public delegate Vp8Encoder? VideoEncoderFactory(int width, int height, int framesPerSecond);

public static class VideoEncoders
{
    /// <summary>libvpx's real-time VP8 encoder when the library is installed, else none.</summary>
    public static VideoEncoderFactory Vp8 { get; } = (width, height, fps) =>
        Vp8Encoder.IsAvailable(out _) ? new Vp8Encoder(width, height, fps) : null;
}
