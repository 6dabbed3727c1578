using System.Numerics;

namespace Platform.Render.Face;

/// <summary>
/// Renders the face region of one look: blendshape weights (pose included) → premultiplied RGBA, row-major, Width×Height,
/// transparent outside the head.
/// </summary>
public interface IFaceRenderer : IDisposable
{
    /// <summary>"raster", "skia", "onnx-cpu" or "onnx-cuda".</summary>
    string Backend { get; }

    FaceFraming Framing { get; }

    int Width => Framing.Width;

    int Height => Framing.Height;

    void Render(ReadOnlySpan<float> weights, Span<byte> rgba);
}

public enum FaceRendererKind
{
    /// <summary>Our scanline rasterizer (<see cref="RasterFaceRenderer"/>): the CPU default.</summary>
    Raster,
    /// <summary>Skia's <c>DrawVertices</c> (<see cref="SkiaFaceRenderer"/>).</summary>
    Skia,
    /// <summary>The ONNX warp graph (<see cref="OnnxFaceRenderer"/>), CUDA when present.</summary>
    Onnx,
}

/// <summary>Orthographic framing of the head in the face region: model centimetres → pixels (y down).</summary>
public sealed record FaceFraming(int Width, int Height)
{
    /// <summary>Model point at the centre of the region.</summary>
    public Vector2 Centre { get; init; } = new(0, 1.2f);

    /// <summary>Centimetres from the centre to the top edge.</summary>
    public float HalfHeightCm { get; init; } = 12.3f;

    public float PixelsPerCm => Height / (2 * HalfHeightCm);

    public Vector2 ToPixel(Vector3 p) =>
        new(Width / 2f + PixelsPerCm * (p.X - Centre.X), Height / 2f - PixelsPerCm * (p.Y - Centre.Y));
}
