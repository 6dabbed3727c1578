using Platform.Render.Face;
using Xunit.Abstractions;

namespace Platform.Render.Tests.Video;

/// <summary>The compositor's per-frame fast path (cached body plates + face blended in YUV) against drawing the whole canvas.</summary>
public sealed class VideoFrameCompositionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false, 320, 180)]
    [InlineData(true, 320, 180)]
    [InlineData(false, 640, 360)]
    [InlineData(false, 1280, 720)]
    public void Fast_frames_match_whole_canvas_frames(bool greenScreen, int width, int height)
    {
        using var asset = FaceAsset.Create(StockLooks.Marcus, atlasSize: 256);
        var face = (int)MathF.Round(height * 0.711f / 2) * 2;
        using var renderer = asset.CreateRenderer(FaceRendererKind.Skia, face, face);
        using var fast = new FaceCompositor(asset.Look, renderer, new CompositorOptions { Width = width, Height = height, GreenScreen = greenScreen });
        using var whole = new FaceCompositor(asset.Look, renderer, new CompositorOptions { Width = width, Height = height, GreenScreen = greenScreen, WholeCanvas = true });
        var animator = new FaceAnimator(5);
        var w = new float[FaceWeights.Count];
        var worst = 99.0;
        int lumaDiff = 0, chromaDiff = 0;
        for (var i = 0; i < 40; i++)
        {
            var at = TimeSpan.FromSeconds(i * 0.11); // a breathing cycle and more, so many plates are made and reused
            animator.Evaluate(at, w);
            w[(int)Blendshape.JawOpen] = 0.5f * (i % 3);
            using var a = fast.Compose(w, at);
            using var b = whole.Compose(w, at);
            Assert.Equal(at, a.Timestamp);
            worst = Math.Min(worst, VideoCodecTests.Psnr(a.Data, b.Data));
            lumaDiff = Math.Max(lumaDiff, MaxDiff(a.Y, b.Y));
            chromaDiff = Math.Max(chromaDiff, Math.Max(MaxDiff(a.U, b.U), MaxDiff(a.V, b.V)));
        }

        output.WriteLine($"worst PSNR {worst:F1} dB, largest luma difference {lumaDiff}, chroma {chromaDiff}; plates {fast.PlateBytes / 1024} KiB");
        Assert.InRange(fast.PlateBytes, 1, I420Frame.Size(width, height) * 16L);
        // Only rounding at the face's anti-aliased edge may differ in luma. In chroma, a 2×2 block where the face's
        // edge meets the neck's edge averages "α × what lies under" as "mean α × mean under": a few levels on a
        // green key, at a handful of edge blocks.
        Assert.True(worst >= 50, $"fast path differs: {worst:F1} dB");
        Assert.True(lumaDiff <= 3, $"a luma sample differs by {lumaDiff}");
        Assert.True(chromaDiff <= 16, $"a chroma sample differs by {chromaDiff}");
    }

    private static int MaxDiff(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var max = 0;
        for (var k = 0; k < a.Length; k++)
        {
            max = Math.Max(max, Math.Abs(a[k] - b[k]));
        }

        return max;
    }
}
