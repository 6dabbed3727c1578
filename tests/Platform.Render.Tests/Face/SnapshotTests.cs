using Platform.Render.Face;

namespace Platform.Render.Tests.Face;

public sealed class SnapshotTests
{
    [Fact]
    public void Stock_looks_render_with_skia()
    {
        foreach (var look in StockLooks.All)
        {
            using var asset = FaceAsset.Create(look);
            using var renderer = asset.CreateRenderer(FaceRendererKind.Skia, 384, 384);
            var rgba = new byte[384 * 384 * 4];
            renderer.Render(FaceWeights.Create(), rgba);
            FaceTestSupport.SavePng($"skia-{look.Name}-neutral", rgba, 384, 384);
            renderer.Render(FaceWeights.Of((Blendshape.JawOpen, 1f), (Blendshape.HeadYaw, 0.6f)), rgba);
            FaceTestSupport.SavePng($"skia-{look.Name}-open-yaw", rgba, 384, 384);
            FaceTestSupport.SavePng($"atlas-{look.Name}", asset.AtlasPixels, asset.Atlas.Width, asset.Atlas.Height);
        }
    }
}

public sealed class OnnxSnapshotTests
{
    [Fact]
    public void Onnx_renders_a_face()
    {
        using var asset = FaceAsset.Create(StockLooks.Anna);
        using var renderer = asset.CreateRenderer(FaceRendererKind.Onnx, 256, 256);
        var rgba = new byte[256 * 256 * 4];
        renderer.Render(FaceWeights.Create(), rgba);
        FaceTestSupport.SavePng("onnx-anna-neutral", rgba, 256, 256);
        renderer.Render(FaceWeights.Of((Blendshape.JawOpen, 1f), (Blendshape.HeadYaw, 0.6f)), rgba);
        FaceTestSupport.SavePng("onnx-anna-open-yaw", rgba, 256, 256);
        using var skia = asset.CreateRenderer(FaceRendererKind.Skia, 256, 256);
        skia.Render(FaceWeights.Of((Blendshape.JawOpen, 1f), (Blendshape.HeadYaw, 0.6f)), rgba);
        FaceTestSupport.SavePng("skia-anna-open-yaw-256", rgba, 256, 256);
    }
}
