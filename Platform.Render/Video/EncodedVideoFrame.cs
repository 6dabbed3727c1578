using System.Buffers;

namespace Platform.Render.Video;

/// <summary>
/// One compressed video frame (a VP8 frame as the decoder takes it: all partitions, no container). The bytes live in a
/// pooled buffer: dispose the frame once it is sent. Disposing twice is harmless.
/// </summary>
public sealed class EncodedVideoFrame : IDisposable
{
    private byte[]? _buffer;
    private readonly int _length;

    internal EncodedVideoFrame(byte[] buffer, int length, bool keyframe, TimeSpan timestamp, int width, int height)
    {
        _buffer = buffer;
        _length = length;
        Keyframe = keyframe;
        Timestamp = timestamp;
        Width = width;
        Height = height;
    }

    /// <summary>The compressed bytes; valid until the frame is disposed.</summary>
    public ReadOnlyMemory<byte> Data => (_buffer ?? throw new ObjectDisposedException(nameof(EncodedVideoFrame))).AsMemory(0, _length);

    public int Length => _length;

    /// <summary>True for a key frame (decodable on its own: what a newly joined viewer needs first).</summary>
    public bool Keyframe { get; }

    /// <summary>Media time of the source frame.</summary>
    public TimeSpan Timestamp { get; }

    public int Width { get; }

    public int Height { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } b)
        {
            ArrayPool<byte>.Shared.Return(b);
        }
    }
}
