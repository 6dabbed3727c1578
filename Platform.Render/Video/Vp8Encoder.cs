using System.Buffers;
using System.Runtime.InteropServices;
using Platform.Render.Face;

namespace Platform.Render.Video;

/// <summary>
/// A real-time VP8 encoder over libvpx (BSD): constant bitrate, no look-ahead, error resilient, a key frame at least
/// every <see cref="Vp8EncoderOptions.KeyframeInterval"/> and on demand (<see cref="RequestKeyframe"/>, which a
/// transport calls when a viewer (re)connects or reports loss). One frame in, at most one frame out, synchronously.
/// <see cref="Encode"/> is meant for one thread at a time; <see cref="RequestKeyframe"/> may come from any thread.
/// </summary>
public sealed unsafe class Vp8Encoder : IDisposable
{
    private const int Timebase = 90_000; // the RTP video clock, so timestamps pass through unchanged

    private readonly Lock _gate = new();
    private readonly long _duration;
    private VpxCodecContext* _ctx;
    private VpxEncoderConfig* _cfg;
    private VpxImage* _img;
    private long _lastPts = -1;
    private int _keyframeRequested = 1;

    public Vp8Encoder(int width, int height, int fps, Vp8EncoderOptions? options = null)
    {
        options ??= new Vp8EncoderOptions();
        options.Validate(width, height, fps);
        Width = width;
        Height = height;
        FramesPerSecond = fps;
        BitrateKbps = options.ResolveBitrate(width, height, fps);
        _duration = Timebase / fps;

        _ctx = (VpxCodecContext*)NativeMemory.AllocZeroed((nuint)sizeof(VpxCodecContext));
        _cfg = (VpxEncoderConfig*)NativeMemory.AllocZeroed((nuint)sizeof(VpxEncoderConfig));
        _img = (VpxImage*)NativeMemory.AllocZeroed((nuint)sizeof(VpxImage));
        var initialised = false;
        try
        {
            var iface = VpxNative.vpx_codec_vp8_cx();
            Check(VpxNative.vpx_codec_enc_config_default(iface, _cfg, 0), "vpx_codec_enc_config_default");
            var c = _cfg;
            c->GW = (uint)width;
            c->GH = (uint)height;
            c->GThreads = (uint)options.Threads;
            c->GTimebase = new VpxRational { Num = 1, Den = Timebase };
            c->GErrorResilient = options.ErrorResilient ? VpxNative.ErrorResilientDefault : 0;
            c->GLagInFrames = 0; // real time: a frame in, its bytes out
            c->GPass = 0; // VPX_RC_ONE_PASS
            c->RcEndUsage = VpxNative.CbrMode;
            c->RcTargetBitrate = (uint)BitrateKbps;
            c->RcMinQuantizer = (uint)options.MinQuantizer;
            c->RcMaxQuantizer = (uint)options.MaxQuantizer;
            c->RcDropframeThresh = (uint)options.DropFrameThreshold;
            c->RcResizeAllowed = 0;
            c->RcUndershootPct = 100;
            c->RcOvershootPct = 15;
            c->RcBufInitialSz = 500; // milliseconds of the decoder's buffer model: small, so the rate follows the network
            c->RcBufOptimalSz = 600;
            c->RcBufSz = 1000;
            c->KfMode = VpxNative.KfAuto;
            c->KfMinDist = 0;
            c->KfMaxDist = (uint)Math.Max(1, Math.Round(options.KeyframeInterval.TotalSeconds * fps));
            KeyframeInterval = (int)c->KfMaxDist;

            Check(VpxNative.vpx_codec_enc_init_ver(_ctx, iface, _cfg, 0, VpxNative.EncoderAbiVersion), "vpx_codec_enc_init");
            initialised = true;
            Control(VpxNative.Vp8eSetCpuUsed, options.CpuUsed, "cpu-used");
            Control(VpxNative.Vp8eSetTokenPartitions, options.TokenPartitionsLog2, "token partitions");
            Control(VpxNative.Vp8eSetNoiseSensitivity, 0, "noise sensitivity");
            Control(VpxNative.Vp8eSetStaticThreshold, options.StaticThreshold, "static threshold");
            Control(VpxNative.Vp8eSetEnableAutoAltRef, 0, "auto alt-ref");
            // A key frame may take at most this share of a frame's average budget (×100), as WebRTC sizes it from the buffer.
            Control(VpxNative.Vp8eSetMaxIntraBitratePct, (int)(c->RcBufOptimalSz * 0.5 * fps / 10), "max intra bitrate");

            // Wrap a placeholder address to have libvpx fill the image header (format, sizes, strides, chroma shifts);
            // each Encode points the planes at that frame's pinned buffer.
            if (VpxNative.vpx_img_wrap(_img, VpxNative.ImgFmtI420, (uint)width, (uint)height, 1, (byte*)1) is null)
            {
                throw new InvalidOperationException("vpx_img_wrap refused an I420 image of this size.");
            }
        }
        catch
        {
            Free(initialised);
            throw;
        }
    }

    public int Width { get; }

    public int Height { get; }

    public int FramesPerSecond { get; }

    /// <summary>The current target bitrate in kbit/s.</summary>
    public int BitrateKbps { get; private set; }

    /// <summary>The longest distance between key frames, in frames.</summary>
    public int KeyframeInterval { get; }

    public long FramesEncoded { get; private set; }

    public long KeyframesEncoded { get; private set; }

    public long BytesEncoded { get; private set; }

    /// <summary>True when libvpx can be loaded (Debian <c>libvpx7</c>); otherwise why not.</summary>
    public static bool IsAvailable(out string? reason)
    {
        try
        {
            _ = VpxNative.vpx_codec_vp8_cx();
            reason = null;
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            reason = $"libvpx is missing ({ex.Message}); run infra/install.d/25-video.sh (Debian libvpx7).";
            return false;
        }
    }

    /// <summary>The next frame is encoded as a key frame (a viewer joined or lost packets). Safe from any thread.</summary>
    public void RequestKeyframe() => Volatile.Write(ref _keyframeRequested, 1);

    /// <summary>Changes the target bitrate (congestion control); takes effect from the next frame.</summary>
    public void SetBitrate(int kbps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kbps);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ctx is null, this);
            _cfg->RcTargetBitrate = (uint)kbps;
            Check(VpxNative.vpx_codec_enc_config_set(_ctx, _cfg), "vpx_codec_enc_config_set");
            BitrateKbps = kbps;
        }
    }

    /// <summary>
    /// Encodes one frame (the caller keeps and disposes it). Returns the compressed frame, to be disposed once sent,
    /// or null when rate control skipped this frame (only with <see cref="Vp8EncoderOptions.DropFrameThreshold"/>).
    /// The first frame, and the first after <see cref="RequestKeyframe"/> or <paramref name="forceKeyframe"/>, is a key frame.
    /// </summary>
    public EncodedVideoFrame? Encode(I420Frame frame, bool forceKeyframe = false)
    {
        ArgumentNullException.ThrowIfNull(frame);
        if (frame.Width != Width || frame.Height != Height)
        {
            throw new ArgumentException($"The frame is {frame.Width}×{frame.Height} but this encoder was made for {Width}×{Height}.", nameof(frame));
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_ctx is null, this);
            var pts = frame.Timestamp.Ticks * Timebase / TimeSpan.TicksPerSecond;
            if (pts <= _lastPts)
            {
                pts = _lastPts + 1; // libvpx needs increasing timestamps; a repeated stamp must not fail the stream
            }

            _lastPts = pts;
            var force = Interlocked.Exchange(ref _keyframeRequested, 0) == 1 || forceKeyframe;
            var flags = force ? VpxNative.EflagForceKf : 0;
            fixed (byte* data = frame.Data)
            {
                SetPlanes(data);
                Check(VpxNative.vpx_codec_encode(_ctx, _img, pts, (ulong)_duration, flags, VpxNative.DeadlineRealtime), "vpx_codec_encode");
            }

            return Collect(frame.Timestamp);
        }
    }

    private void SetPlanes(byte* data)
    {
        var ySize = Width * Height;
        var cSize = Width / 2 * (Height / 2);
        _img->Planes[0] = (ulong)data;
        _img->Planes[1] = (ulong)(data + ySize);
        _img->Planes[2] = (ulong)(data + ySize + cSize);
        _img->Stride[0] = Width;
        _img->Stride[1] = Width / 2;
        _img->Stride[2] = Width / 2;
    }

    private EncodedVideoFrame? Collect(TimeSpan timestamp)
    {
        // One frame packet in practice (no output-partition mode), but join any that come.
        IntPtr iter = 0;
        var total = 0;
        var key = false;
        byte* packet;
        while ((packet = VpxNative.vpx_codec_get_cx_data(_ctx, &iter)) is not null)
        {
            if (*(int*)(packet + VpxNative.PktKindOffset) == VpxNative.CxFramePkt)
            {
                total += checked((int)*(nuint*)(packet + VpxNative.PktSizeOffset));
                key |= (*(uint*)(packet + VpxNative.PktFlagsOffset) & VpxNative.FrameIsKey) != 0;
            }
        }

        if (total == 0)
        {
            return null;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(total);
        var at = 0;
        iter = 0;
        while ((packet = VpxNative.vpx_codec_get_cx_data(_ctx, &iter)) is not null)
        {
            if (*(int*)(packet + VpxNative.PktKindOffset) == VpxNative.CxFramePkt)
            {
                var n = (int)*(nuint*)(packet + VpxNative.PktSizeOffset);
                new ReadOnlySpan<byte>(*(byte**)(packet + VpxNative.PktBufOffset), n).CopyTo(buffer.AsSpan(at));
                at += n;
            }
        }

        FramesEncoded++;
        BytesEncoded += total;
        if (key)
        {
            KeyframesEncoded++;
        }

        return new EncodedVideoFrame(buffer, total, key, timestamp, Width, Height);
    }

    private void Control(int id, int value, string what)
    {
        var err = VpxNative.vpx_codec_control_(_ctx, id, value);
        if (err != 0)
        {
            throw new InvalidOperationException($"libvpx refused {what} = {value}: {VpxNative.ErrorText(err, _ctx)}");
        }
    }

    private void Check(int err, string call)
    {
        if (err != 0)
        {
            throw new InvalidOperationException($"{call} failed: {VpxNative.ErrorText(err, _ctx)}");
        }
    }

    private void Free(bool initialised)
    {
        if (_ctx is not null)
        {
            if (initialised)
            {
                VpxNative.vpx_codec_destroy(_ctx);
            }

            NativeMemory.Free(_ctx);
            _ctx = null;
        }

        NativeMemory.Free(_cfg);
        _cfg = null;
        NativeMemory.Free(_img);
        _img = null;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            Free(initialised: true);
        }

        GC.SuppressFinalize(this);
    }

    ~Vp8Encoder()
    {
        Free(initialised: true);
    }
}
