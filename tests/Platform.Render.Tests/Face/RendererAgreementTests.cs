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
        const int size = 160;
        using var asset = FaceAsset.Create(StockLooks.Ravi, atlasSize: 512);
        using var skia = asset.CreateRenderer(FaceRendererKind.Skia, size, size);
        using var onnx = asset.CreateRenderer(FaceRendererKind.Onnx, size, size);
        Assert.StartsWith("onnx-", onnx.Backend);
        var a = new byte[size * size * 4];
        var b = new byte[size * size * 4];
        var results = new List<(int Pose, double Ssim)>();
        var poses = Poses();
        Assert.Equal(20, poses.Length);
        for (var p = 0; p < poses.Length; p++)
        {
            skia.Render(poses[p], a);
            onnx.Render(poses[p], b);
            var crop = Crop(a, size, size);
            var ssim = Ssim.Compute(FaceTestSupport.LumaOverGrey(a, size, size), FaceTestSupport.LumaOverGrey(b, size, size), size, crop);
            results.Add((p, ssim));
            if (p is 0 or 12 or 19)
            {
                FaceTestSupport.SavePng($"agree-{p:00}-skia", a, size, size);
                FaceTestSupport.SavePng($"agree-{p:00}-onnx", b, size, size);
            }
        }

        var report = string.Join(", ", results.Select(r => $"{r.Pose}:{r.Ssim:F3}"));
        File.WriteAllText(Path.Combine(FaceTestSupport.OutputFolder, "ssim.txt"), report);
        Assert.True(results.All(r => r.Ssim >= 0.9), $"SSIM per pose: {report}");
    }

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
