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
    private readonly FaceMeshProjection projection;
    private readonly SKPoint[] points;
    private readonly SKPoint[] texs;
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
        projection = new FaceMeshProjection(model, framing);
        points = new SKPoint[model.VertexCount];
        texs = [.. model.Atlas.Select(a => new SKPoint(a.X, a.Y))];
        var triangles = model.Layers.Length;
        indices = new ushort[triangles * 3];
    }

    public string Backend => "skia";

    public FaceFraming Framing { get; }

    public void Render(ReadOnlySpan<float> weights, Span<byte> rgba)
    {
        projection.Project(weights);
        for (var i = 0; i < points.Length; i++)
        {
            points[i] = new SKPoint(projection.Points[i].X, projection.Points[i].Y);
        }

        var tris = asset.Model.Triangles;
        var order = projection.Order;
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
