using System.Runtime.InteropServices;
using Platform.Render.Face;

namespace Platform.Render.Video;

/// <summary>
/// A VP8 decoder over libvpx, for checks of what the encoder sends (tests, loopback previews). Decoded frames come
/// out as pooled <see cref="I420Frame"/>s the caller disposes. One thread at a time.
/// </summary>
public sealed unsafe class Vp8Decoder : IDisposable
{
    private readonly Lock _gate = new();
    private VpxCodecContext* _ctx;
    private I420FramePool? _pool;

    public Vp8Decoder(int threads = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _ctx = (VpxCodecContext*)NativeMemory.AllocZeroed((nuint)sizeof(VpxCodecContext));
        var cfg = new VpxDecoderConfig { Threads = (uint)threads };
        var err = VpxNative.vpx_codec_dec_init_ver(_ctx, VpxNative.vpx_codec_vp8_dx(), &cfg, 0, VpxNative.DecoderAbiVersion);
        if (err != 0)
        {
            var text = VpxNative.ErrorText(err, _ctx);
            NativeMemory.Free(_ctx);
            _ctx = null;
            throw new InvalidOperationException($"vpx_codec_dec_init failed: {text}");
        }
    }

    public long FramesDecoded { get; private set; }

    /// <summary>
    /// Decodes one compressed frame. Returns the picture (dispose it), or null when the frame shows nothing new.
    /// Throws <see cref="InvalidDataException"/> for data libvpx cannot decode (corrupt, or no key frame yet).
    /// </summary>
    public I420Frame? Decode(ReadOnlySpan<byte> data, TimeSpan timestamp = default)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ctx is null, this);
            if (data.IsEmpty)
            {
                throw new ArgumentException("A VP8 frame has at least one byte.", nameof(data));
            }

            fixed (byte* p = data)
            {
                var err = VpxNative.vpx_codec_decode(_ctx, p, (uint)data.Length, 0, 0);
                if (err != 0)
                {
                    throw new InvalidDataException($"VP8 decode failed: {VpxNative.ErrorText(err, _ctx)}");
                }
            }

            IntPtr iter = 0;
            I420Frame? result = null;
            VpxImage* img;
            while ((img = VpxNative.vpx_codec_get_frame(_ctx, &iter)) is not null)
            {
                result?.Dispose();
                result = Copy(img, timestamp);
            }

            if (result is not null)
            {
                FramesDecoded++;
            }

            return result;
        }
    }

    private I420Frame Copy(VpxImage* img, TimeSpan timestamp)
    {
        if (img->Fmt != VpxNative.ImgFmtI420)
        {
            throw new InvalidDataException($"Unexpected decoded image format 0x{img->Fmt:x}.");
        }

        int w = (int)img->DW, h = (int)img->DH;
        if (_pool is null || _pool.Width != w || _pool.Height != h)
        {
            _pool = new I420FramePool(w, h);
        }

        var frame = _pool.Rent(timestamp);
        CopyPlane((byte*)img->Planes[0], img->Stride[0], frame.Y, w, h);
        CopyPlane((byte*)img->Planes[1], img->Stride[1], frame.U, w / 2, h / 2);
        CopyPlane((byte*)img->Planes[2], img->Stride[2], frame.V, w / 2, h / 2);
        return frame;
    }

    private static void CopyPlane(byte* src, int stride, Span<byte> dst, int w, int h)
    {
        for (var y = 0; y < h; y++)
        {
            new ReadOnlySpan<byte>(src + (long)y * stride, w).CopyTo(dst.Slice(y * w, w));
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Free();
        }

        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_ctx is not null)
        {
            VpxNative.vpx_codec_destroy(_ctx);
            NativeMemory.Free(_ctx);
            _ctx = null;
        }
    }

    ~Vp8Decoder()
    {
        Free();
    }
}
