using System.Runtime.InteropServices;
using SkiaSharp;

namespace Platform.Render.Face;

/// <summary>Everything a renderer needs for one look: the head model and its painted texture atlas.</summary>
public sealed class FaceAsset : IDisposable
{
    private FaceAsset(FaceLook look, HeadModel model, SKBitmap atlas)
    {
        Look = look;
        Model = model;
        Atlas = atlas;
        AtlasImage = SKImage.FromBitmap(atlas);
    }

    public FaceLook Look { get; }

    public HeadModel Model { get; }

    /// <summary>Premultiplied RGBA, 2·AtlasSize × AtlasSize.</summary>
    public SKBitmap Atlas { get; }

    internal SKImage AtlasImage { get; }

    public static FaceAsset Create(FaceLook look, int atlasSize = 512, CanonicalFaceMesh? mesh = null)
    {
        ArgumentNullException.ThrowIfNull(look);
        var volume = look.HairStyle switch
        {
            HairStyle.Buzz => 0.55f,
            HairStyle.Short => 0.75f,
            _ => 1f,
        };
        var model = HeadModel.Build(mesh ?? CanonicalFaceMesh.LoadDefault(), look.Shape, atlasSize, volume);
        return new FaceAsset(look, model, FaceTexture.Paint(model, look));
    }

    public IFaceRenderer CreateRenderer(FaceRendererKind kind, int width, int height, OnnxFaceRendererOptions? onnx = null) =>
        kind switch
        {
            FaceRendererKind.Raster => new RasterFaceRenderer(this, new FaceFraming(width, height)),
            FaceRendererKind.Skia => new SkiaFaceRenderer(this, new FaceFraming(width, height)),
            FaceRendererKind.Onnx => new OnnxFaceRenderer(this, new FaceFraming(width, height), onnx ?? new OnnxFaceRendererOptions()),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown face renderer."),
        };

    /// <summary>The atlas pixels (premultiplied RGBA bytes).</summary>
    internal ReadOnlySpan<byte> AtlasPixels => Atlas.GetPixelSpan();

    public void Dispose()
    {
        AtlasImage.Dispose();
        Atlas.Dispose();
    }
}
