using System.Diagnostics;
using System.Threading.Channels;
using Platform.Render.Face;
using Platform.Render.Video;

namespace Platform.Bench.Engine;

/// <summary>
/// <c>--video-only</c>: N sessions' video path alone — animator → Skia face → compositor on one task per session,
/// paced by the wall clock at 30 fps, handing frames through a small channel to a VP8 encoder on a second task (as
/// the session's loop and sender do) — for <c>--seconds</c>. Separates the video budget from the speech stack's.
/// </summary>
internal static class VideoOnlyBench
{
    public static async Task<int> RunAsync(EngineBenchOptions options, int seconds)
    {
        using var asset = FaceAsset.Create(StockLooks.Anna);
        Console.WriteLine($"video only: {options.Sessions} × {options.Width}×{options.Height} 30 fps for {seconds} s, VP8 {options.BitrateKbps} kbit/s cpu-used {options.CpuUsed} (load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]})");
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var results = await Task.WhenAll(Enumerable.Range(0, options.Sessions).Select(i => Task.Run(() => RunOneAsync(i, asset, options, seconds))));
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var intervals = results.SelectMany(r => r.Intervals).Order().ToList();
        double P(double q) => intervals[Math.Clamp((int)Math.Ceiling(q * intervals.Count) - 1, 0, intervals.Count - 1)];
        Console.WriteLine($"frame interval (encoded frame out): p50 {P(0.5):F0} ms, p95 {P(0.95):F0} ms, p99 {P(0.99):F0} ms, max {intervals[^1]:F0} ms (n = {intervals.Count})");
        Console.WriteLine($"frames: {results.Sum(r => r.Frames)}, dropped at the encoder queue: {results.Sum(r => r.Dropped)}");
        Console.WriteLine($"CPU per session: {cpu.TotalSeconds / (options.Sessions * (double)seconds) * 100:F0}% of one core; peak memory {process.PeakWorkingSet64 / (1024 * 1024)} MiB; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
        return 0;
    }

    private sealed record Result(List<double> Intervals, int Frames, int Dropped);

    private static async Task<Result> RunOneAsync(int index, FaceAsset asset, EngineBenchOptions options, int seconds)
    {
        var faceSize = (int)MathF.Round(options.Height * 0.711f / 2) * 2;
        using var renderer = asset.CreateRenderer(FaceRendererKind.Raster, faceSize, faceSize);
        using var compositor = new FaceCompositor(asset.Look, renderer, new CompositorOptions { Width = options.Width, Height = options.Height });
        using var encoder = new Vp8Encoder(options.Width, options.Height, 30, new Vp8EncoderOptions { BitrateKbps = options.BitrateKbps, CpuUsed = options.CpuUsed });
        var animator = new FaceAnimator(index + 1);
        var weights = new float[FaceWeights.Count];
        var queue = Channel.CreateBounded<I420Frame>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
        var intervals = new List<double>();
        var clock = Stopwatch.StartNew();
        var sender = Task.Run(async () =>
        {
            TimeSpan? last = null;
            await foreach (var frame in queue.Reader.ReadAllAsync())
            {
                using (frame)
                using (encoder.Encode(frame))
                {
                }

                var now = clock.Elapsed;
                if (last is { } l)
                {
                    intervals.Add((now - l).TotalMilliseconds);
                }

                last = now;
            }
        });

        var frames = seconds * 30;
        var dropped = 0;
        for (var i = 0; i < frames; i++)
        {
            var at = TimeSpan.FromTicks(i * TimeSpan.TicksPerSecond / 30);
            var due = at - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due);
            }

            animator.Evaluate(at, weights);
            var frame = compositor.Compose(weights, at);
            if (!queue.Writer.TryWrite(frame))
            {
                frame.Dispose();
                dropped++;
            }
        }

        queue.Writer.Complete();
        await sender;
        return new Result(intervals, frames - dropped, dropped);
    }
}
