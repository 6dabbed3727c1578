using System.Buffers;
using System.Collections.Concurrent;

namespace Platform.Render.Face;

/// <summary>A pooled I420 (YUV 4:2:0, BT.601 limited range) frame; dispose it to give the buffer back.</summary>
public sealed class I420Frame : IDisposable
{
    private readonly I420FramePool? pool;

    internal I420Frame(int width, int height, I420FramePool? pool)
    {
        Width = width;
        Height = height;
        this.pool = pool;
        Buffer = ArrayPool<byte>.Shared.Rent(Size(width, height));
    }

    public int Width { get; }

    public int Height { get; }

    public TimeSpan Timestamp { get; internal set; }

    internal byte[] Buffer { get; private set; }

    public int Length => Size(Width, Height);

    public Span<byte> Data => Buffer.AsSpan(0, Length);

    public Span<byte> Y => Buffer.AsSpan(0, Width * Height);

    public Span<byte> U => Buffer.AsSpan(Width * Height, Width / 2 * (Height / 2));

    public Span<byte> V => Buffer.AsSpan(Width * Height + Width / 2 * (Height / 2), Width / 2 * (Height / 2));

    public static int Size(int width, int height) => width * height + 2 * (width / 2) * (height / 2);

    public void Dispose()
    {
        if (pool is not null)
        {
            pool.Return(this);
        }
        else
        {
            ArrayPool<byte>.Shared.Return(Buffer);
            Buffer = [];
        }
    }
}

/// <summary>Reusable frames of one size: renting after warm-up allocates nothing.</summary>
public sealed class I420FramePool(int width, int height)
{
    private readonly ConcurrentBag<I420Frame> free = [];

    public int Width { get; } = width;

    public int Height { get; } = height;

    public I420Frame Rent(TimeSpan timestamp)
    {
        var frame = free.TryTake(out var f) ? f : new I420Frame(Width, Height, this);
        frame.Timestamp = timestamp;
        return frame;
    }

    internal void Return(I420Frame frame) => free.Add(frame);
}

/// <summary>RGB → YUV, BT.601 limited range, integer arithmetic (the same everywhere, so colours key exactly).</summary>
public static class Yuv
{
    public static byte Y(int r, int g, int b) => (byte)(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16);

    public static byte U(int r, int g, int b) => (byte)(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128);

    public static byte V(int r, int g, int b) => (byte)(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128);
}
