namespace Platform.Render.Video;

/// <summary>Real-time VP8 settings. The defaults suit a live 720p30 call on a CPU worker that runs several sessions.</summary>
public sealed class Vp8EncoderOptions
{
    /// <summary>Target bitrate in kbit/s (constant bitrate). Null: about 2 Mbit/s at 720p30, scaled by pixels × frame rate.</summary>
    public int? BitrateKbps { get; init; }

    /// <summary>
    /// libvpx <c>cpu-used</c> for real-time VP8 (−16…16; the magnitude sets speed, a negative value lets the encoder
    /// pick the speed itself from how long frames take). −12 encodes a 720p talking head in about 4 ms of one core
    /// here at ≈ 50 dB luma PSNR (−6: 5 ms, −16: 3.7 ms at 47–49 dB; see BENCHMARKS.md).
    /// </summary>
    public int CpuUsed { get; init; } = -12;

    /// <summary>Encoder threads for this stream. One: a worker runs several sessions, and they are the parallelism.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Token partitions as a power of two (0 = one … 3 = eight), so decoders can use several threads.</summary>
    public int TokenPartitionsLog2 { get; init; } = 1;

    /// <summary>The longest stretch without a key frame (a viewer joining without asking waits at most this long).</summary>
    public TimeSpan KeyframeInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Error-resilient mode: a lost frame damages less of what follows (live transports drop packets).</summary>
    public bool ErrorResilient { get; init; } = true;

    /// <summary>Quantizer bounds (0–63); the cap keeps quality from collapsing on a burst of motion.</summary>
    public int MinQuantizer { get; init; } = 4;

    public int MaxQuantizer { get; init; } = 56;

    /// <summary>
    /// Macroblocks that differ from their prediction by less than this (sum of squared error) are skipped outright.
    /// A rendered face on a still background leaves most of the picture unchanged, so skipping it saves encoder time:
    /// 100 (WebRTC's value for screen content) took a 720p frame from 4.1 to 3.6 ms at the same PSNR; 1000 saves more
    /// but costs ≈ 2.5 dB and may leave slow motion (breathing) behind. 1 for camera video.
    /// </summary>
    public int StaticThreshold { get; init; } = 100;

    /// <summary>Buffer fullness (percent) below which the encoder may skip a frame to hold the bitrate; 0 never skips.</summary>
    public int DropFrameThreshold { get; init; }

    internal int ResolveBitrate(int width, int height, int fps) =>
        BitrateKbps ?? (int)Math.Clamp(2000.0 * width * height * fps / (1280.0 * 720 * 30), 100, 20_000);

    internal void Validate(int width, int height, int fps)
    {
        if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0 || width > 16_383 || height > 16_383)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"The frame size must be even and positive (got {width}×{height}).");
        }

        if (fps is <= 0 or > 240)
        {
            throw new ArgumentOutOfRangeException(nameof(fps), $"The frame rate must be 1–240 (got {fps}).");
        }

        if (BitrateKbps is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BitrateKbps), "The bitrate must be positive.");
        }

        if (CpuUsed is < -16 or > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(CpuUsed), "cpu-used must be between -16 and 16.");
        }

        if (Threads is < 1 or > 64)
        {
            throw new ArgumentOutOfRangeException(nameof(Threads), "Threads must be 1–64.");
        }

        if (TokenPartitionsLog2 is < 0 or > 3)
        {
            throw new ArgumentOutOfRangeException(nameof(TokenPartitionsLog2), "Token partitions (log2) must be 0–3.");
        }

        if (KeyframeInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(KeyframeInterval), "The keyframe interval must be positive.");
        }

        if (MinQuantizer < 0 || MaxQuantizer > 63 || MinQuantizer > MaxQuantizer)
        {
            throw new ArgumentOutOfRangeException(nameof(MinQuantizer), "Quantizers must satisfy 0 ≤ min ≤ max ≤ 63.");
        }

        if (DropFrameThreshold is < 0 or > 100)
        {
            throw new ArgumentOutOfRangeException(nameof(DropFrameThreshold), "The drop-frame threshold is a percentage (0–100).");
        }
    }
}
