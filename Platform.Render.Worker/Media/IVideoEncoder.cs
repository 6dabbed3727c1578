using Platform.Render.Face;

namespace Platform.Render.Worker.Media;

/// <summary>One encoded video frame; <see cref="Data"/> is owned by the caller once returned.</summary>
public readonly record struct EncodedFrame(byte[] Data, bool Keyframe);

/// <summary>A session's video encoder (VP8 for the embedded transport).</summary>
public interface IVideoEncoder : IDisposable
{
    /// <summary>Encodes one frame; null when the encoder emitted nothing for it (rate control may skip one).</summary>
    EncodedFrame? Encode(I420Frame frame, bool forceKeyframe);
}

/// <summary>Makes a session's encoder (width, height, frames per second); null when this worker cannot encode video.</summary>
public delegate IVideoEncoder? VideoEncoderFactory(int width, int height, int framesPerSecond);
