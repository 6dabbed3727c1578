using System.Runtime.InteropServices;
using Platform.LiveKit.Ffi.Media;
using Platform.Render.Audio;
using Platform.Render.Face;
using Xunit.Abstractions;

namespace Platform.LiveKit.Ffi.Tests;

/// <summary>Every native handle is dropped: create/capture/dispose cycles leave no handle and no memory behind.</summary>
[Collection(FfiCollection.Name)]
public sealed partial class SoakTests(ITestOutputHelper output)
{
    private const int WarmUpCycles = 200;
    private const int Cycles = 1_000;
    private const long MaxGrowthBytes = 5L * 1024 * 1024;

    [Fact]
    public async Task A_thousand_create_capture_dispose_cycles_leave_no_handles_and_under_5_MB_of_growth()
    {
        var pool = new I420FramePool(1280, 720);
        var tone = new short[960];
        for (var i = 0; i < tone.Length; i++) tone[i] = (short)(6000 * Math.Sin(2 * Math.PI * 220 * i / 48_000.0));
        var handlesBefore = FfiHandle.Outstanding;

        for (var n = 0; n < WarmUpCycles; n++) await CycleAsync(pool, tone, n);
        Assert.Equal(handlesBefore, FfiHandle.Outstanding);
        var baseline = await SettledRssAsync();

        for (var n = 0; n < Cycles; n++) await CycleAsync(pool, tone, n);
        Assert.Equal(handlesBefore, FfiHandle.Outstanding);
        Assert.Equal(0, FfiClient.Instance.PendingRequests);
        var final = await SettledRssAsync();

        var growth = final.Resident - baseline.Resident;
        output.WriteLine($"RSS after warm-up {baseline.Resident / 1024} KiB (anonymous {baseline.Anonymous / 1024} KiB), " +
            $"after {Cycles} more cycles {final.Resident / 1024} KiB (anonymous {final.Anonymous / 1024} KiB): growth {growth / 1024} KiB");
        Assert.True(growth < MaxGrowthBytes, $"RSS grew by {growth / 1024} KiB over {Cycles} cycles (limit {MaxGrowthBytes / 1024} KiB)");
    }

    private static async Task CycleAsync(I420FramePool pool, short[] tone, int n)
    {
        using var audio = new AudioSource();
        using var video = new VideoSource(1280, 720);
        using var mic = LocalTrack.CreateAudio("soak-audio", audio);
        using var cam = LocalTrack.CreateVideo("soak-video", video);
        using (var pcm = PcmFrame.Rent(tone, AudioFormat.Output48k, TimeSpan.FromMilliseconds(20 * n)))
        {
            await audio.CaptureAsync(pcm);
        }
        using var frame = pool.Rent(TimeSpan.FromMilliseconds(n * 1000 / 30.0));
        frame.Y.Fill((byte)(16 + n % 200));
        frame.U.Fill(128);
        frame.V.Fill(128);
        video.Capture(frame);
    }

    /// <summary>
    /// The library frees part of a dropped source on its own threads a little later (tens of MB in flight right after
    /// a burst of cycles), so RSS is read once it has settled: four readings 100 ms apart within 256 KiB of each other.
    /// </summary>
    private static async Task<(long Resident, long Anonymous)> SettledRssAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        var previous = Rss();
        var stable = 0;
        while (true)
        {
            await Task.Delay(100);
            var now = Rss();
            stable = Math.Abs(now.Resident - previous.Resident) < 256 * 1024 ? stable + 1 : 0;
            if (stable == 3) return now;
            Assert.True(DateTime.UtcNow < deadline, $"RSS did not settle within 15 s (last {previous.Resident / 1024} → {now.Resident / 1024} KiB)");
            previous = now;
        }
    }

    /// <summary>Resident and anonymous (resident − file-backed) bytes from /proc/self/statm, after a full collection and a malloc trim.</summary>
    private static (long Resident, long Anonymous) Rss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        MallocTrim(0);
        var fields = File.ReadAllText("/proc/self/statm").Split(' ');
        var page = Environment.SystemPageSize;
        var resident = long.Parse(fields[1]) * page;
        return (resident, resident - long.Parse(fields[2]) * page);
    }

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
