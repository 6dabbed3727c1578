using Xunit.Abstractions;
using System.Runtime.InteropServices;
using Platform.Render.Face;
using Platform.Render.Video;

namespace Platform.Render.Tests.Video;

public sealed class VideoCodecTests(ITestOutputHelper output)
{
    private const int Width = 320;
    private const int Height = 180;
    private const int Fps = 30;

    [Fact]
    public void Struct_layouts_match_libvpx_1_12()
    {
        // The sizes and offsets printed by a C program built against libvpx-dev 1.12 (x86-64/arm64 LP64).
        Assert.Equal(504, Marshal.SizeOf<VpxEncoderConfig>());
        Assert.Equal(56, Marshal.SizeOf<VpxCodecContext>());
        Assert.Equal(136, Marshal.SizeOf<VpxImage>());
        Assert.Equal(12, Marshal.SizeOf<VpxDecoderConfig>());
        Assert.Equal(28, Off<VpxEncoderConfig>(nameof(VpxEncoderConfig.GTimebase)));
        Assert.Equal(72, Off<VpxEncoderConfig>(nameof(VpxEncoderConfig.RcEndUsage)));
        Assert.Equal(112, Off<VpxEncoderConfig>(nameof(VpxEncoderConfig.RcTargetBitrate)));
        Assert.Equal(168, Off<VpxEncoderConfig>(nameof(VpxEncoderConfig.KfMaxDist)));
        Assert.Equal(216, Off<VpxEncoderConfig>(nameof(VpxEncoderConfig.TsNumberLayers)));
        Assert.Equal(328, Off<VpxEncoderConfig>(nameof(VpxEncoderConfig.LayerTargetBitrate)));
        Assert.Equal(384, Off<VpxEncoderConfig>(nameof(VpxEncoderConfig.ActiveWqFactor)));
        Assert.Equal(496, Off<VpxEncoderConfig>(nameof(VpxEncoderConfig.RdMultKeyQpFac)));
        Assert.Equal(48, Off<VpxImage>(nameof(VpxImage.Planes)));
        Assert.Equal(80, Off<VpxImage>(nameof(VpxImage.Stride)));
        Assert.Equal(104, Off<VpxImage>(nameof(VpxImage.UserPriv)));
        Assert.Equal(128, Off<VpxImage>(nameof(VpxImage.FbPriv)));
        Assert.Equal(24, Off<VpxCodecContext>(nameof(VpxCodecContext.ErrDetail)));
        Assert.True(Vp8Encoder.IsAvailable(out var reason), reason);
    }

    [Fact]
    public void Rendered_faces_survive_encode_and_decode()
    {
        using var source = new FaceSource(Width, Height);
        using var encoder = new Vp8Encoder(Width, Height, Fps, new Vp8EncoderOptions { BitrateKbps = 600 });
        using var decoder = new Vp8Decoder();
        var psnrs = new List<double>();
        for (var i = 0; i < 45; i++)
        {
            using var frame = source.Next(i);
            using var encoded = encoder.Encode(frame);
            Assert.NotNull(encoded);
            Assert.Equal(frame.Timestamp, encoded.Timestamp);
            Assert.Equal((Width, Height), (encoded.Width, encoded.Height));
            Assert.True(i > 0 || encoded.Keyframe, "the first frame must be a key frame");
            Assert.True(i == 0 || !encoded.Keyframe, $"frame {i} is a key frame though none was due");
            using var decoded = decoder.Decode(encoded.Data.Span, encoded.Timestamp);
            Assert.NotNull(decoded);
            Assert.Equal((Width, Height), (decoded.Width, decoded.Height));
            psnrs.Add(Psnr(frame.Y, decoded.Y));
        }

        // The first frames settle the rate control; after that the face must stay clearly recognisable.
        var settled = psnrs.Skip(5).ToList();
        output.WriteLine($"luma PSNR mean {settled.Average():F1} dB, min {settled.Min():F1} dB, {encoder.BytesEncoded * 8.0 / 1000 / 1.5:F0} kbit/s");
        Assert.True(settled.Average() >= 32, $"mean luma PSNR {settled.Average():F1} dB");
        Assert.True(settled.Min() >= 30, $"worst luma PSNR {settled.Min():F1} dB");
        Assert.Equal(45, decoder.FramesDecoded);
        Assert.Equal(1, encoder.KeyframesEncoded);
    }

    [Fact]
    public void Key_frames_come_on_request_and_at_the_interval()
    {
        using var source = new FaceSource(Width, Height);
        using var encoder = new Vp8Encoder(Width, Height, Fps, new Vp8EncoderOptions { KeyframeInterval = TimeSpan.FromSeconds(0.5) });
        Assert.Equal(15, encoder.KeyframeInterval);
        var keys = new List<int>();
        for (var i = 0; i < 40; i++)
        {
            if (i == 4)
            {
                encoder.RequestKeyframe(); // a viewer (re)connected
            }

            using var frame = source.Next(i);
            using var encoded = encoder.Encode(frame, forceKeyframe: i == 9);
            if (encoded!.Keyframe)
            {
                keys.Add(i);
            }
        }

        Assert.Equal([0, 4, 9], keys.Take(3));
        // Never more than the interval without one, and no extra ones beyond the requests and the interval.
        var gaps = keys.Zip(keys.Skip(1), (a, b) => b - a).Append(40 - keys[^1]).ToList();
        Assert.All(gaps, g => Assert.InRange(g, 1, 15));
        Assert.InRange(keys.Count, 4, 6);
    }

    [Fact]
    public void Output_follows_the_target_bitrate()
    {
        // Two seconds each at a low and a high target: both stay near or under their budget, and the higher target spends more.
        var low = Spend(150);
        var high = Spend(900);
        output.WriteLine($"150 kbit/s target: {low.Kbps:F0} kbit/s, {low.Psnr:F1} dB; 900 kbit/s target: {high.Kbps:F0} kbit/s, {high.Psnr:F1} dB");
        Assert.True(low.Kbps <= 150 * 1.6, $"{low.Kbps:F0} kbit/s against 150");
        Assert.True(high.Kbps <= 900 * 1.6, $"{high.Kbps:F0} kbit/s against 900");
        Assert.True(high.Kbps > low.Kbps * 1.3, $"{high.Kbps:F0} kbit/s at 900 against {low.Kbps:F0} at 150");
        Assert.True(high.Psnr > low.Psnr, $"PSNR {high.Psnr:F1} dB at 900 against {low.Psnr:F1} at 150");
    }

    [Fact]
    public void Encoding_reuses_its_buffers()
    {
        using var source = new FaceSource(Width, Height);
        using var encoder = new Vp8Encoder(Width, Height, Fps);
        var frames = Enumerable.Range(0, 30).Select(i => source.Next(i)).ToList();
        for (var i = 0; i < 10; i++)
        {
            encoder.Encode(frames[i])!.Dispose();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 10; i < 30; i++)
        {
            encoder.Encode(frames[i])!.Dispose();
        }

        var perFrame = (GC.GetAllocatedBytesForCurrentThread() - before) / 20;
        frames.ForEach(f => f.Dispose());
        // The compressed bytes go to a pooled buffer; only the small frame record is new each time.
        Assert.True(perFrame < 512, $"{perFrame} bytes allocated per encoded frame");
    }

    [Fact]
    public void Bad_input_is_refused_clearly()
    {
        using var encoder = new Vp8Encoder(Width, Height, Fps);
        var pool = new I420FramePool(Width * 2, Height * 2);
        using var wrong = pool.Rent(TimeSpan.Zero);
        var ex = Assert.Throws<ArgumentException>(() => encoder.Encode(wrong));
        Assert.Equal("frame", ex.ParamName);
        Assert.Contains("640×360", ex.Message);
        Assert.Contains("320×180", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Vp8Encoder(321, 180, Fps));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Vp8Encoder(Width, Height, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Vp8Encoder(Width, Height, Fps, new Vp8EncoderOptions { BitrateKbps = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Vp8Encoder(Width, Height, Fps, new Vp8EncoderOptions { CpuUsed = 20 }));

        using var decoder = new Vp8Decoder();
        Assert.Throws<InvalidDataException>(() => decoder.Decode([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0xff, 0xff]));
        Assert.Throws<ArgumentException>(() => decoder.Decode([]));
    }

    [Fact]
    public void Disposing_twice_is_safe_and_use_after_dispose_is_refused()
    {
        using var source = new FaceSource(Width, Height);
        var encoder = new Vp8Encoder(Width, Height, Fps);
        using var frame = source.Next(0);
        var encoded = encoder.Encode(frame)!;
        Assert.True(encoded.Length > 0);
        encoded.Dispose();
        encoded.Dispose();
        Assert.Throws<ObjectDisposedException>(() => encoded.Data);
        encoder.Dispose();
        encoder.Dispose();
        Assert.Throws<ObjectDisposedException>(() => encoder.Encode(frame));
        Assert.Throws<ObjectDisposedException>(() => encoder.SetBitrate(500));
        encoder.RequestKeyframe(); // harmless after dispose: the transport may race with the session's end

        var decoder = new Vp8Decoder();
        decoder.Dispose();
        decoder.Dispose();
        Assert.Throws<ObjectDisposedException>(() => decoder.Decode([1, 2, 3]));
    }

    private static (double Kbps, double Psnr) Spend(int kbps)
    {
        using var source = new FaceSource(Width, Height);
        using var encoder = new Vp8Encoder(Width, Height, Fps, new Vp8EncoderOptions { BitrateKbps = kbps, MinQuantizer = 2, MaxQuantizer = 63 });
        using var decoder = new Vp8Decoder();
        long bytes = 0;
        double psnr = 0;
        const int frames = 60;
        for (var i = 0; i < frames; i++)
        {
            using var frame = source.Next(i, noise: true);
            using var encoded = encoder.Encode(frame)!;
            bytes += encoded.Length;
            using var decoded = decoder.Decode(encoded.Data.Span)!;
            psnr += Psnr(frame.Y, decoded.Y) / frames;
        }

        return (bytes * 8.0 / 1000 / (frames / (double)Fps), psnr);
    }

    private static int Off<T>(string field) => (int)Marshal.OffsetOf<T>(field);

    internal static double Psnr(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        double sse = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = a[i] - b[i];
            sse += d * d;
        }

        var mse = sse / a.Length;
        return mse == 0 ? 99 : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>A talking-head frame source: the Skia renderer and compositor as the session uses them, animated over time.</summary>
    internal sealed class FaceSource : IDisposable
    {
        private readonly FaceAsset _asset;
        private readonly IFaceRenderer _renderer;
        private readonly FaceCompositor _compositor;
        private readonly FaceAnimator _animator = new(7);
        private readonly float[] _weights = new float[FaceWeights.Count];
        private readonly Random _random = new(11);

        public FaceSource(int width, int height)
        {
            _asset = FaceAsset.Create(StockLooks.Anna, atlasSize: 256);
            var face = Math.Min(width, height) / 2 * 2;
            _renderer = _asset.CreateRenderer(FaceRendererKind.Skia, face, face);
            _compositor = new FaceCompositor(_asset.Look, _renderer, new CompositorOptions { Width = width, Height = height });
        }

        /// <summary>Frame <paramref name="index"/> at 30 fps; with <paramref name="noise"/>, camera-like grain that costs bits.</summary>
        public I420Frame Next(int index, bool noise = false)
        {
            var at = TimeSpan.FromTicks(index * TimeSpan.TicksPerSecond / Fps);
            _animator.Evaluate(at, _weights);
            _weights[(int)Blendshape.JawOpen] = 0.4f * (1 + MathF.Sin(index * 0.7f)); // talking
            var frame = _compositor.Compose(_weights, at);
            if (noise)
            {
                var y = frame.Y;
                for (var i = 0; i < y.Length; i++)
                {
                    y[i] = (byte)Math.Clamp(y[i] + _random.Next(-6, 7), 0, 255);
                }
            }

            return frame;
        }

        public void Dispose()
        {
            _compositor.Dispose();
            _renderer.Dispose();
            _asset.Dispose();
        }
    }
}
