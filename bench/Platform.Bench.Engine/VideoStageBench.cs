using System.Diagnostics;
using Platform.Render.Face;
using Platform.Render.Video;

namespace Platform.Bench.Engine;

/// <summary>
/// <c>--stages</c>: CPU per 720p frame of each video stage on one thread (face render, compose + I420, VP8 at several
/// speeds), to see where a session's video budget goes. Process CPU time over a single-threaded loop, so the other
/// agents' load on the machine inflates wall clock but not these numbers.
/// </summary>
internal static class VideoStageBench
{
    public static int Run(EngineBenchOptions options)
    {
        const int frames = 150;
        using var asset = FaceAsset.Create(StockLooks.Anna);
        var faceSize = (int)MathF.Round(options.Height * 0.711f / 2) * 2;
        using var skia = asset.CreateRenderer(FaceRendererKind.Skia, faceSize, faceSize);
        using var renderer = asset.CreateRenderer(FaceRendererKind.Raster, faceSize, faceSize);
        using var compositor = new FaceCompositor(asset.Look, renderer, new CompositorOptions { Width = options.Width, Height = options.Height });
        var animator = new FaceAnimator(1);
        animator.Speak(new SpeechClip(TimeSpan.FromSeconds(0.2),
            [.. Enumerable.Range(0, 40).Select(i => new VisemeCue(i % 2 == 0 ? Viseme.AA : Viseme.MBP, i * 0.15, i * 0.15 + 0.15))]));
        var w = new float[FaceWeights.Count];
        var rgba = new byte[faceSize * faceSize * 4];
        Console.WriteLine($"video stages at {options.Width}×{options.Height}, face {faceSize}², {frames} frames, CPU ms per frame (load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");

        foreach (var face in new[] { skia, renderer })
        {
            Measure($"{face.Backend} face render", frames, i =>
            {
                animator.Evaluate(At(i), w);
                face.Render(w, rgba);
            });
        }
        Measure($"{renderer.Backend} render + compose + I420", frames, i =>
        {
            animator.Evaluate(At(i), w);
            compositor.Compose(w, At(i)).Dispose();
        });

        // Encode a fixed set of rendered frames at each speed.
        var clip = Enumerable.Range(0, frames).Select(i =>
        {
            animator.Evaluate(At(i), w);
            return compositor.Compose(w, At(i));
        }).ToList();
        foreach (var (speed, still) in new[] { (-6, 1), (-8, 1), (-12, 1), (-16, 1), (-12, 100), (-12, 1000) })
        {
            using var encoder = new Vp8Encoder(options.Width, options.Height, 30, new Vp8EncoderOptions { BitrateKbps = options.BitrateKbps, CpuUsed = speed, StaticThreshold = still });
            using var decoder = new Vp8Decoder();
            double psnr = 0;
            long bytes = 0;
            var cpu = Measure($"VP8 encode cpu-used {speed}", frames, i =>
            {
                using var e = encoder.Encode(clip[i])!;
                bytes += e.Length;
            }, print: false, warmUp: false);
            // Quality in a second pass (decoding is not part of the sender's cost).
            using var check = new Vp8Encoder(options.Width, options.Height, 30, new Vp8EncoderOptions { BitrateKbps = options.BitrateKbps, CpuUsed = speed, StaticThreshold = still });
            foreach (var f in clip)
            {
                using var e = check.Encode(f)!;
                using var d = decoder.Decode(e.Data.Span)!;
                psnr += Psnr(f.Y, d.Y) / clip.Count;
            }

            Console.WriteLine($"  VP8 encode cpu-used {speed,3} static-threshold {still,4}: {cpu:F2} ms CPU per frame, {bytes * 8.0 / 1000 / (frames / 30.0):F0} kbit/s, luma PSNR {psnr:F1} dB");
        }

        clip.ForEach(f => f.Dispose());
        return 0;
    }

    private static TimeSpan At(int i) => TimeSpan.FromTicks(i * TimeSpan.TicksPerSecond / 30);

    private static double Measure(string name, int frames, Action<int> frame, bool print = true, bool warmUp = true)
    {
        for (var i = 0; i < (warmUp ? 10 : 0); i++)
        {
            frame(i);
        }

        var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < frames; i++)
        {
            frame(i);
        }

        process.Refresh();
        var cpu = (process.TotalProcessorTime - before).TotalMilliseconds / frames;
        if (print)
        {
            Console.WriteLine($"  {name}: {cpu:F2} ms CPU per frame ({wall.Elapsed.TotalMilliseconds / frames:F2} ms wall)");
        }

        return cpu;
    }

    private static double Psnr(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        double sse = 0;
        for (var i = 0; i < a.Length; i++)
        {
            var d = a[i] - b[i];
            sse += d * d;
        }

        return sse == 0 ? 99 : 10 * Math.Log10(255.0 * 255.0 * a.Length / sse);
    }
}
