using System.Diagnostics;
using Platform.Render.Face;

namespace Platform.Bench.Face;

/// <summary>Per-frame wall-clock times of the face renderers, the 720p composite and the I420 conversion.</summary>
internal static class FaceBench
{
    public static void Run(int frames, int size)
    {
        using var asset = FaceAsset.Create(StockLooks.Anna);
        var animator = new FaceAnimator(1);
        animator.Speak(new SpeechClip(TimeSpan.FromSeconds(0.2),
            [.. Enumerable.Range(0, 40).Select(i => new VisemeCue(i % 2 == 0 ? Viseme.AA : Viseme.MBP, i * 0.15, i * 0.15 + 0.15))]));
        Console.WriteLine($"face bench: {frames} frames, face {size}x{size}, {Environment.ProcessorCount} cores");

        foreach (var kind in new[] { FaceRendererKind.Raster, FaceRendererKind.Skia, FaceRendererKind.Onnx })
        {
            using var renderer = asset.CreateRenderer(kind, size, size);
            var rgba = new byte[size * size * 4];
            Measure($"{renderer.Backend} face {size}²", frames, animator, w => renderer.Render(w, rgba));
        }

        using (var renderer = asset.CreateRenderer(FaceRendererKind.Skia, size, size))
        using (var compositor = new FaceCompositor(asset.Look, renderer, new CompositorOptions { FaceSize = 512 }))
        {
            Measure("skia + composite 720p I420", frames, animator, w => compositor.Compose(w, TimeSpan.Zero).Dispose());
            var pool = new I420FramePool(compositor.Width, compositor.Height);
            Measure("I420 conversion 720p", frames, animator, _ =>
            {
                using var frame = pool.Rent(TimeSpan.Zero);
                compositor.ConvertForeground(frame);
            });
        }

        using (var renderer = asset.CreateRenderer(FaceRendererKind.Onnx, size, size))
        using (var compositor = new FaceCompositor(asset.Look, renderer, new CompositorOptions { FaceSize = 512 }))
        {
            Measure("onnx + composite 720p I420", frames, animator, w => compositor.Compose(w, TimeSpan.Zero).Dispose());
        }
    }

    private static void Measure(string name, int frames, FaceAnimator animator, Action<float[]> frame)
    {
        var w = new float[FaceWeights.Count];
        for (var i = 0; i < 10; i++)
        {
            animator.Evaluate(TimeSpan.FromSeconds(i / 30.0), w);
            frame(w);
        }

        var times = new double[frames];
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        for (var i = 0; i < frames; i++)
        {
            animator.Evaluate(TimeSpan.FromSeconds(i / 30.0), w);
            var t = Stopwatch.GetTimestamp();
            frame(w);
            times[i] = Stopwatch.GetElapsedTime(t).TotalMilliseconds;
        }

        var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / frames;
        Array.Sort(times);
        double P(double q) => times[Math.Min(frames - 1, (int)(q * frames))];
        Console.WriteLine($"{name,-30} p50 {P(0.50),7:F2} ms  p95 {P(0.95),7:F2} ms  p99 {P(0.99),7:F2} ms  cpu {cpuMs,6:F2} ms/frame  (wall {wall.Elapsed.TotalSeconds:F1} s)");
    }
}
