using System.Runtime.InteropServices;

namespace Platform.Render.Video;

/// <summary>
/// P/Invoke into libvpx 1.12 (Debian <c>libvpx7</c>, BSD-3-Clause). Struct layouts and ABI versions are written from
/// <c>vpx/vpx_encoder.h</c>, <c>vpx_decoder.h</c>, <c>vpx_image.h</c> and <c>vpx_codec.h</c> of that release
/// (x86-64 and arm64 LP64); <c>VideoNativeLayoutTests</c> pins the sizes and offsets.
/// </summary>
internal static unsafe partial class VpxNative
{
    public const string Library = "libvpx.so.7";

    /// <summary>VPX_IMAGE_ABI_VERSION 5 → VPX_CODEC_ABI_VERSION 4+5 → VPX_ENCODER_ABI_VERSION 15+9+VPX_EXT_RATECTRL_ABI_VERSION(1).</summary>
    public const int EncoderAbiVersion = 25;

    /// <summary>VPX_DECODER_ABI_VERSION = 3 + VPX_CODEC_ABI_VERSION.</summary>
    public const int DecoderAbiVersion = 12;

    public const int ImgFmtI420 = 0x100 | 2;
    public const int CbrMode = 1; // VPX_CBR
    public const int KfAuto = 1; // VPX_KF_AUTO
    public const int ErrorResilientDefault = 1; // VPX_ERROR_RESILIENT_DEFAULT
    public const long EflagForceKf = 1; // VPX_EFLAG_FORCE_KF
    public const uint FrameIsKey = 1; // VPX_FRAME_IS_KEY
    public const int CxFramePkt = 0; // VPX_CODEC_CX_FRAME_PKT
    public const ulong DeadlineRealtime = 1; // VPX_DL_REALTIME

    // vp8e_enc_control_id values (vp8cx.h).
    public const int Vp8eSetCpuUsed = 13;
    public const int Vp8eSetEnableAutoAltRef = 14;
    public const int Vp8eSetNoiseSensitivity = 15;
    public const int Vp8eSetStaticThreshold = 17;
    public const int Vp8eSetTokenPartitions = 18;
    public const int Vp8eSetMaxIntraBitratePct = 26;

    // vpx_codec_cx_pkt_t offsets (the frame member of the data union starts at 8).
    public const int PktKindOffset = 0;
    public const int PktBufOffset = 8;
    public const int PktSizeOffset = 16;
    public const int PktPtsOffset = 24;
    public const int PktFlagsOffset = 40;

    [DllImport(Library)] public static extern IntPtr vpx_codec_vp8_cx();
    [DllImport(Library)] public static extern IntPtr vpx_codec_vp8_dx();
    [DllImport(Library)] public static extern int vpx_codec_enc_config_default(IntPtr iface, VpxEncoderConfig* cfg, uint usage);
    [DllImport(Library)] public static extern int vpx_codec_enc_init_ver(VpxCodecContext* ctx, IntPtr iface, VpxEncoderConfig* cfg, long flags, int ver);
    [DllImport(Library)] public static extern int vpx_codec_enc_config_set(VpxCodecContext* ctx, VpxEncoderConfig* cfg);
    [DllImport(Library)] public static extern int vpx_codec_dec_init_ver(VpxCodecContext* ctx, IntPtr iface, VpxDecoderConfig* cfg, long flags, int ver);
    [DllImport(Library)] public static extern VpxImage* vpx_img_wrap(VpxImage* img, int fmt, uint dW, uint dH, uint strideAlign, byte* data);
    [DllImport(Library)] public static extern int vpx_codec_encode(VpxCodecContext* ctx, VpxImage* img, long pts, ulong duration, long flags, ulong deadline);
    [DllImport(Library)] public static extern byte* vpx_codec_get_cx_data(VpxCodecContext* ctx, IntPtr* iter);
    [DllImport(Library)] public static extern int vpx_codec_decode(VpxCodecContext* ctx, byte* data, uint size, IntPtr userPriv, long deadline);
    [DllImport(Library)] public static extern VpxImage* vpx_codec_get_frame(VpxCodecContext* ctx, IntPtr* iter);
    [DllImport(Library)] public static extern int vpx_codec_destroy(VpxCodecContext* ctx);
    [DllImport(Library)] public static extern IntPtr vpx_codec_err_to_string(int err);
    [DllImport(Library)] public static extern IntPtr vpx_codec_version_str();

    /// <summary>
    /// <c>vpx_codec_control_(ctx, id, ...)</c> is variadic; every control used here takes one int-sized argument, which
    /// the SysV x86-64 and AAPCS64 (Linux) conventions pass in the same register as a fixed int parameter.
    /// </summary>
    [DllImport(Library)] public static extern int vpx_codec_control_(VpxCodecContext* ctx, int ctrlId, int value);

    public static string ErrorText(int err, VpxCodecContext* ctx)
    {
        var text = Marshal.PtrToStringUTF8(vpx_codec_err_to_string(err)) ?? $"error {err}";
        var detail = ctx is null || ctx->ErrDetail == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(ctx->ErrDetail);
        return detail is null ? text : $"{text} ({detail})";
    }
}

/// <summary><c>vpx_codec_ctx_t</c> (56 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VpxCodecContext
{
    public IntPtr Name;
    public IntPtr Iface;
    public int Err;
    public IntPtr ErrDetail;
    public long InitFlags;
    public IntPtr Config;
    public IntPtr Priv;
}

/// <summary><c>vpx_codec_dec_cfg_t</c> (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VpxDecoderConfig
{
    public uint Threads;
    public uint W;
    public uint H;
}

/// <summary><c>vpx_rational_t</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VpxRational
{
    public int Num;
    public int Den;
}

/// <summary><c>vpx_fixed_buf_t</c>.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct VpxFixedBuffer
{
    public IntPtr Buf;
    public nuint Size;
}

/// <summary><c>vpx_codec_enc_cfg_t</c> of libvpx 1.12 (504 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VpxEncoderConfig
{
    public uint GUsage;
    public uint GThreads;
    public uint GProfile;
    public uint GW;
    public uint GH;
    public int GBitDepth;
    public uint GInputBitDepth;
    public VpxRational GTimebase;
    public int GErrorResilient;
    public int GPass;
    public uint GLagInFrames;
    public uint RcDropframeThresh;
    public uint RcResizeAllowed;
    public uint RcScaledWidth;
    public uint RcScaledHeight;
    public uint RcResizeUpThresh;
    public uint RcResizeDownThresh;
    public int RcEndUsage;
    public VpxFixedBuffer RcTwopassStatsIn;
    public VpxFixedBuffer RcFirstpassMbStatsIn;
    public uint RcTargetBitrate;
    public uint RcMinQuantizer;
    public uint RcMaxQuantizer;
    public uint RcUndershootPct;
    public uint RcOvershootPct;
    public uint RcBufSz;
    public uint RcBufInitialSz;
    public uint RcBufOptimalSz;
    public uint Rc2PassVbrBiasPct;
    public uint Rc2PassVbrMinsectionPct;
    public uint Rc2PassVbrMaxsectionPct;
    public uint Rc2PassVbrCorpusComplexity;
    public int KfMode;
    public uint KfMinDist;
    public uint KfMaxDist;
    public uint SsNumberLayers;
    public fixed int SsEnableAutoAltRef[5];
    public fixed uint SsTargetBitrate[5];
    public uint TsNumberLayers;
    public fixed uint TsTargetBitrate[5];
    public fixed uint TsRateDecimator[5];
    public uint TsPeriodicity;
    public fixed uint TsLayerId[16];
    public fixed uint LayerTargetBitrate[12];
    public int TemporalLayeringMode;
    public int UseVizierRcParams;
    public VpxRational ActiveWqFactor;
    public VpxRational ErrPerMbFactor;
    public VpxRational SrDefaultDecayLimit;
    public VpxRational SrDiffFactor;
    public VpxRational KfErrPerMbFactor;
    public VpxRational KfFrameMinBoostFactor;
    public VpxRational KfFrameMaxBoostFirstFactor;
    public VpxRational KfFrameMaxBoostSubsFactor;
    public VpxRational KfMaxTotalBoostFactor;
    public VpxRational GfMaxTotalBoostFactor;
    public VpxRational GfFrameMaxBoostFactor;
    public VpxRational ZmFactor;
    public VpxRational RdMultInterQpFac;
    public VpxRational RdMultArfQpFac;
    public VpxRational RdMultKeyQpFac;
}

/// <summary><c>vpx_image_t</c> (136 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct VpxImage
{
    public int Fmt;
    public int Cs;
    public int Range;
    public uint W;
    public uint H;
    public uint BitDepth;
    public uint DW;
    public uint DH;
    public uint RW;
    public uint RH;
    public uint XChromaShift;
    public uint YChromaShift;
    public fixed ulong Planes[4]; // unsigned char* planes[4]
    public fixed int Stride[4];
    public int Bps;
    public IntPtr UserPriv;
    public IntPtr ImgData;
    public int ImgDataOwner;
    public int SelfAllocd;
    public IntPtr FbPriv;
}
