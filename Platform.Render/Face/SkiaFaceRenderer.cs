using System.Numerics;
using SkiaSharp;

namespace Platform.Render.Face;

/// <summary>
/// CPU mesh renderer: deforms the head with the blendshape basis, projects it orthographically, sorts triangles back to
/// front and draws them textured with Skia's <c>DrawVertices</c>.
/// </summary>
public sealed class SkiaFaceRenderer : IFaceRenderer
{
    private readonly FaceAsset asset;
    private readonly SKBitmap target;
    private readonly SKCanvas canvas;
    private readonly SKPaint paint;
    private readonly SKShader shader;
    private readonly Vector3[] positions;
    private readonly SKPoint[] points;
    private readonly SKPoint[] texs;
    private readonly float[] keys;
    private readonly int[] order;
    private readonly ushort[] indices;

    public SkiaFaceRenderer(FaceAsset asset, FaceFraming framing)
    {
        this.asset = asset;
        Framing = framing;
        var model = asset.Model;
        target = new SKBitmap(new SKImageInfo(framing.Width, framing.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        canvas = new SKCanvas(target);
        shader = asset.AtlasImage.ToShader(SKShaderTileMode.Clamp, SKShaderTileMode.Clamp, new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
        paint = new SKPaint { Shader = shader, IsAntialias = false };
        positions = new Vector3[model.VertexCount];
        points = new SKPoint[model.VertexCount];
        texs = [.. model.Atlas.Select(a => new SKPoint(a.X, a.Y))];
        var triangles = model.Layers.Length;
        keys = new float[triangles];
        order = new int[triangles];
        indices = new ushort[triangles * 3];
    }

    public string Backend => "skia";

    public FaceFraming Framing { get; }

    public void Render(ReadOnlySpan<float> weights, Span<byte> rgba)
    {
        var model = asset.Model;
        model.Deform(weights, positions);
        for (var i = 0; i < positions.Length; i++)
        {
            var p = Framing.ToPixel(positions[i]);
            points[i] = new SKPoint(p.X, p.Y);
        }

        var tris = model.Triangles;
        for (var t = 0; t < keys.Length; t++)
        {
            order[t] = t;
            keys[t] = model.Layers[t] == TriangleLayer.Interior
                ? -1000f
                : positions[tris[3 * t]].Z + positions[tris[3 * t + 1]].Z + positions[tris[3 * t + 2]].Z;
        }

        Array.Sort(keys, order);
        for (var k = 0; k < order.Length; k++)
        {
            var t = order[k];
            indices[3 * k] = (ushort)tris[3 * t];
            indices[3 * k + 1] = (ushort)tris[3 * t + 1];
            indices[3 * k + 2] = (ushort)tris[3 * t + 2];
        }

        canvas.Clear(SKColors.Transparent);
        canvas.DrawVertices(SKVertexMode.Triangles, points, texs, null, indices, paint);
        canvas.Flush();
        target.GetPixelSpan().CopyTo(rgba);
    }

    public void Dispose()
    {
        paint.Dispose();
        shader.Dispose();
        canvas.Dispose();
        target.Dispose();
    }
}
