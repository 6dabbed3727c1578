using Platform.Render.Face;

namespace Platform.Render.Tests.Face;

public sealed class RendererAgreementTests
{
    public static float[][] Poses()
    {
        var poses = new List<float[]>
        {
            FaceWeights.Create(),
            FaceWeights.Of((Blendshape.JawOpen, 1f)),
            FaceWeights.Of((Blendshape.JawOpen, 0.5f), (Blendshape.LipsRound, 0.8f)),
            FaceWeights.Of((Blendshape.LipsRound, 1f)),
            FaceWeights.Of((Blendshape.LipsWide, 1f), (Blendshape.JawOpen, 0.3f)),
            FaceWeights.Of((Blendshape.LipsClosed, 1f)),
            FaceWeights.Of((Blendshape.Smile, 1f)),
            FaceWeights.Of((Blendshape.Smile, 1f), (Blendshape.JawOpen, 0.6f)),
            FaceWeights.Of((Blendshape.BlinkLeft, 1f), (Blendshape.BlinkRight, 1f)),
            FaceWeights.Of((Blendshape.BlinkLeft, 1f)),
            FaceWeights.Of((Blendshape.BrowsUp, 1f)),
            FaceWeights.Of((Blendshape.BrowsDown, 1f)),
            FaceWeights.Of((Blendshape.HeadYaw, 1f)),
            FaceWeights.Of((Blendshape.HeadYaw, -1f), (Blendshape.JawOpen, 0.7f)),
            FaceWeights.Of((Blendshape.HeadPitch, 1f)),
            FaceWeights.Of((Blendshape.HeadPitch, -1f)),
            FaceWeights.Of((Blendshape.HeadRoll, 1f)),
            FaceWeights.Of((Blendshape.HeadRoll, -1f), (Blendshape.Breathing, 1f)),
            FaceWeights.Of((Blendshape.HeadYaw, 0.6f), (Blendshape.HeadPitch, 0.5f), (Blendshape.HeadRoll, 0.5f), (Blendshape.Smile, 0.5f)),
            FaceWeights.Of((Blendshape.JawOpen, 1f), (Blendshape.LipsWide, 1f), (Blendshape.Smile, 1f), (Blendshape.BrowsUp, 1f),
                (Blendshape.BlinkRight, 1f), (Blendshape.HeadYaw, -0.8f), (Blendshape.HeadPitch, -0.6f)),
        };
        return [.. poses];
    }

    [Fact]
    public void Onnx_and_skia_agree_on_20_poses_including_extremes()
    {
        var results = Compare(FaceRendererKind.Onnx, 160, "onnx");
        Assert.True(results.All(r => r.Ssim >= 0.9), $"SSIM per pose: {Report(results)}");
    }

    [Fact]
    public void The_rasterizer_draws_what_skia_draws_on_20_poses_including_extremes()
    {
        var results = Compare(FaceRendererKind.Raster, 256, "raster");
        // Same geometry, order, sampling and pixel centres: only rounding and edge pixels may differ.
        Assert.True(results.All(r => r.Ssim >= 0.98), $"SSIM per pose: {Report(results)}");
        Assert.True(results.All(r => r.Coverage <= 0.01), $"head coverage differs: {string.Join(", ", results.Select(r => $"{r.Pose}:{r.Coverage:P2}"))}");
        Assert.True(results.All(r => r.MeanError <= 2.0), $"mean |Δ| per channel: {string.Join(", ", results.Select(r => $"{r.Pose}:{r.MeanError:F2}"))}");
    }

    /// <summary>Renders the 20 poses with Skia and <paramref name="kind"/>; per pose the face-crop SSIM, the share of
    /// pixels covered by one and not the other, and the mean absolute channel difference.</summary>
    private static List<(int Pose, double Ssim, double Coverage, double MeanError)> Compare(FaceRendererKind kind, int size, string name)
    {
        using var asset = FaceAsset.Create(StockLooks.Ravi, atlasSize: 512);
        using var skia = asset.CreateRenderer(FaceRendererKind.Skia, size, size);
        using var other = asset.CreateRenderer(kind, size, size);
        Assert.NotEqual(skia.Backend, other.Backend);
        var a = new byte[size * size * 4];
        var b = new byte[size * size * 4];
        var results = new List<(int, double, double, double)>();
        var poses = Poses();
        Assert.Equal(20, poses.Length);
        for (var p = 0; p < poses.Length; p++)
        {
            skia.Render(poses[p], a);
            other.Render(poses[p], b);
            var crop = Crop(a, size, size);
            var ssim = Ssim.Compute(FaceTestSupport.LumaOverGrey(a, size, size), FaceTestSupport.LumaOverGrey(b, size, size), size, crop);
            int covered = 0, mismatched = 0;
            long error = 0;
            for (var i = 0; i < a.Length; i += 4)
            {
                covered += a[i + 3] > 0 ? 1 : 0;
                mismatched += (a[i + 3] > 0) != (b[i + 3] > 0) ? 1 : 0;
                for (var c = 0; c < 4; c++)
                {
                    error += Math.Abs(a[i + c] - b[i + c]);
                }
            }

            results.Add((p, ssim, (double)mismatched / covered, error / (double)(covered * 4)));
            if (p is 0 or 12 or 19)
            {
                FaceTestSupport.SavePng($"agree-{p:00}-skia", a, size, size);
                FaceTestSupport.SavePng($"agree-{p:00}-{name}", b, size, size);
            }
        }

        File.WriteAllText(Path.Combine(FaceTestSupport.OutputFolder, $"ssim-{name}.txt"), Report(results));
        return results;
    }

    private static string Report(IEnumerable<(int Pose, double Ssim, double, double)> results) =>
        string.Join(", ", results.Select(r => $"{r.Pose}:{r.Ssim:F3}"));

    private static (int, int, int, int) Crop(byte[] rgba, int w, int h)
    {
        int x0 = w, y0 = h, x1 = 0, y1 = 0;
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                if (rgba[(y * w + x) * 4 + 3] > 0)
                {
                    (x0, y0, x1, y1) = (Math.Min(x0, x), Math.Min(y0, y), Math.Max(x1, x + 1), Math.Max(y1, y + 1));
                }
            }
        }

        return (x0, y0, x1, y1);
    }
}
