using System.Numerics;
using SkiaSharp;

namespace Platform.Render.Face;

public sealed class CompositorOptions
{
    public int Width { get; init; } = 1280;

    public int Height { get; init; } = 720;

    /// <summary>Side of the face region on the canvas (0 = 71% of the height, i.e. 512 at 720p, 768 at 1080p).</summary>
    public int FaceSize { get; init; }

    /// <summary>Overrides the look's background with a green screen (<c>apply_greenscreen</c>).</summary>
    public bool? GreenScreen { get; init; }

    public static CompositorOptions Hd720 => new();

    public static CompositorOptions Hd1080 => new() { Width = 1920, Height = 1080 };
}

/// <summary>
/// Puts the rendered face on the canvas: background (or green screen), neck and shoulders, then the face region, and
/// converts to I420 in one pass into pooled frames. Per frame it allocates nothing.
/// </summary>
public sealed class FaceCompositor : IDisposable
{
    private readonly IFaceRenderer renderer;
    private readonly FaceLook look;
    private readonly I420FramePool pool;
    private readonly byte[] faceRgba;
    private readonly SKBitmap faceBitmap;
    private readonly SKBitmap foreground;
    private readonly SKCanvas canvas;
    private readonly byte[] backgroundRows;
    private readonly byte[] backgroundY;
    private readonly byte[] backgroundU;
    private readonly byte[] backgroundV;
    private readonly SKPath neck;
    private readonly SKPath shoulders;
    private readonly SKPaint neckPaint;
    private readonly SKPaint clothingPaint;
    private readonly SKPaint facePaint = new();
    private readonly SKSamplingOptions sampling = new(SKFilterMode.Linear, SKMipmapMode.None);

    public FaceCompositor(FaceLook look, IFaceRenderer renderer, CompositorOptions? options = null)
    {
        options ??= new CompositorOptions();
        if (options.Width % 2 != 0 || options.Height % 2 != 0)
        {
            throw new ArgumentException("I420 needs an even width and height.", nameof(options));
        }

        this.renderer = renderer;
        this.look = options.GreenScreen == true ? look.WithGreenScreen() : look;
        Width = options.Width;
        Height = options.Height;
        var faceSize = options.FaceSize > 0 ? options.FaceSize : (int)MathF.Round(Height * 0.711f / 2) * 2;
        FaceRect = SKRectI.Create((Width - faceSize) / 2, (int)(Height * 0.035f), faceSize, faceSize);
        pool = new I420FramePool(Width, Height);
        faceRgba = new byte[renderer.Width * renderer.Height * 4];
        faceBitmap = new SKBitmap(new SKImageInfo(renderer.Width, renderer.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        foreground = new SKBitmap(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        canvas = new SKCanvas(foreground);

        backgroundRows = new byte[Height * 3];
        var bg = this.look.Background;
        for (var y = 0; y < Height; y++)
        {
            var c = bg.Kind switch
            {
                BackgroundKind.GreenScreen => bg.Key,
                BackgroundKind.Gradient => bg.Top.Mix(bg.Bottom, y / (float)(Height - 1)),
                _ => bg.Top,
            };
            backgroundRows[3 * y] = c.R;
            backgroundRows[3 * y + 1] = c.G;
            backgroundRows[3 * y + 2] = c.B;
        }

        backgroundY = new byte[Height];
        backgroundU = new byte[Height / 2];
        backgroundV = new byte[Height / 2];
        for (var y = 0; y < Height; y++)
        {
            backgroundY[y] = Yuv.Y(backgroundRows[3 * y], backgroundRows[3 * y + 1], backgroundRows[3 * y + 2]);
        }

        for (var y = 0; y < Height; y += 2)
        {
            // Same rounding as a blended block: the average of the block's two rows, twice each.
            var r = (2 * backgroundRows[3 * y] + 2 * backgroundRows[3 * y + 3] + 2) >> 2;
            var g = (2 * backgroundRows[3 * y + 1] + 2 * backgroundRows[3 * y + 4] + 2) >> 2;
            var b = (2 * backgroundRows[3 * y + 2] + 2 * backgroundRows[3 * y + 5] + 2) >> 2;
            backgroundU[y / 2] = Yuv.U(r, g, b);
            backgroundV[y / 2] = Yuv.V(r, g, b);
        }

        (neck, shoulders) = BuildBody(look.Shape.Width);
        var skin = look.Skin;
        neckPaint = new SKPaint
        {
            IsAntialias = true,
            Shader = SKShader.CreateLinearGradient(ToCanvas(new Vector2(0, -8f)), ToCanvas(new Vector2(0, -12.5f)),
                [Colour(skin.Scale(0.5f)), Colour(skin.Scale(0.8f))], SKShaderTileMode.Clamp),
        };
        var cloth = look.Clothing;
        clothingPaint = new SKPaint
        {
            IsAntialias = true,
            Shader = SKShader.CreateLinearGradient(ToCanvas(new Vector2(-14, -11f)), ToCanvas(new Vector2(10, -22f)),
                [Colour(cloth.Scale(1.15f)), Colour(cloth.Scale(0.7f))], SKShaderTileMode.Clamp),
        };
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Where the face region lands on the canvas.</summary>
    public SKRectI FaceRect { get; }

    /// <summary>Premultiplied RGBA of the last frame's foreground (person only; transparent elsewhere).</summary>
    public ReadOnlySpan<byte> Foreground => foreground.GetPixelSpan();

    /// <summary>Renders and composes one frame. Dispose the frame when sent.</summary>
    public I420Frame Compose(ReadOnlySpan<float> weights, TimeSpan timestamp)
    {
        renderer.Render(weights, faceRgba);
        faceRgba.CopyTo(faceBitmap.GetPixelSpan());
        faceBitmap.NotifyPixelsChanged();

        var breath = weights.Length > (int)Blendshape.Breathing ? weights[(int)Blendshape.Breathing] : 0;
        canvas.Clear(SKColors.Transparent);
        canvas.Save();
        canvas.Translate(0, -breath * 0.3f * PixelsPerCm);
        canvas.DrawPath(neck, neckPaint);
        canvas.DrawPath(shoulders, clothingPaint);
        canvas.Restore();
        using (var image = SKImage.FromBitmap(faceBitmap))
        {
            canvas.DrawImage(image, SKRect.Create(FaceRect.Left, FaceRect.Top, FaceRect.Width, FaceRect.Height), sampling, facePaint);
        }

        canvas.Flush();
        var frame = pool.Rent(timestamp);
        ToI420(foreground.GetPixelSpan(), frame);
        return frame;
    }

    private float PixelsPerCm => renderer.Framing.PixelsPerCm * FaceRect.Width / renderer.Width;

    private SKPoint ToCanvas(Vector2 model)
    {
        var p = renderer.Framing.ToPixel(new Vector3(model, 0));
        var s = FaceRect.Width / (float)renderer.Width;
        return new SKPoint(FaceRect.Left + p.X * s, FaceRect.Top + p.Y * s);
    }

    private (SKPath Neck, SKPath Shoulders) BuildBody(float width)
    {
        SKPoint P(float x, float y) => ToCanvas(new Vector2(x * width, y));
        SKPoint Below(float x) => new(ToCanvas(new Vector2(x * width, 0)).X, Height + 4);

        using var nb = new SKPathBuilder();
        nb.MoveTo(P(-3.9f, -5f));
        nb.LineTo(P(3.9f, -5f));
        nb.CubicTo(P(4.0f, -9f), P(4.4f, -12f), P(5.6f, -16.5f));
        nb.LineTo(P(-5.6f, -16.5f));
        nb.CubicTo(P(-4.4f, -12f), P(-4.0f, -9f), P(-3.9f, -5f));
        nb.Close();

        using var sb = new SKPathBuilder();
        sb.MoveTo(P(-5.2f, -12.6f));
        sb.QuadTo(P(0, -15.8f), P(5.2f, -12.6f));
        sb.CubicTo(P(10f, -13.2f), P(16.5f, -14.0f), P(18.5f, -17.5f));
        sb.LineTo(Below(20f));
        sb.LineTo(Below(-20f));
        sb.LineTo(P(-18.5f, -17.5f));
        sb.CubicTo(P(-16.5f, -14.0f), P(-10f, -13.2f), P(-5.2f, -12.6f));
        sb.Close();
        return (nb.Detach(), sb.Detach());
    }

    /// <summary>Blends the last foreground over the background into <paramref name="frame"/> (exposed for the bench).</summary>
    internal void ConvertForeground(I420Frame frame) => ToI420(foreground.GetPixelSpan(), frame);

    private unsafe void ToI420(ReadOnlySpan<byte> rgba, I420Frame frame)
    {
        int w = Width, h = Height, cw = w / 2;
        fixed (byte* src = rgba)
        fixed (byte* dst = frame.Buffer)
        fixed (byte* bgRows = backgroundRows)
        fixed (byte* bgY = backgroundY)
        fixed (byte* bgU = backgroundU)
        fixed (byte* bgV = backgroundV)
        {
            var yPlane = dst;
            var uPlane = dst + w * h;
            var vPlane = uPlane + cw * (h / 2);
            for (var y = 0; y < h; y += 2)
            {
                var top = (uint*)(src + y * w * 4);
                var bottom = (uint*)(src + (y + 1) * w * 4);
                for (var x = 0; x < w; x += 2)
                {
                    // Fast path: the whole 2×2 block is background (alpha is the top byte of each RGBA word).
                    if (((top[x] | top[x + 1] | bottom[x] | bottom[x + 1]) & 0xFF000000u) == 0)
                    {
                        yPlane[y * w + x] = yPlane[y * w + x + 1] = bgY[y];
                        yPlane[(y + 1) * w + x] = yPlane[(y + 1) * w + x + 1] = bgY[y + 1];
                        uPlane[(y / 2) * cw + x / 2] = bgU[y / 2];
                        vPlane[(y / 2) * cw + x / 2] = bgV[y / 2];
                        continue;
                    }

                    int sr = 0, sg = 0, sb = 0;
                    for (var dy = 0; dy < 2; dy++)
                    {
                        var row = y + dy;
                        var bg = bgRows + 3 * row;
                        var s = src + (row * w + x) * 4;
                        for (var dx = 0; dx < 2; dx++, s += 4)
                        {
                            int a = s[3], r, g, b;
                            if (a == 0)
                            {
                                (r, g, b) = (bg[0], bg[1], bg[2]);
                            }
                            else
                            {
                                var inv = 255 - a;
                                r = s[0] + (bg[0] * inv + 127) / 255;
                                g = s[1] + (bg[1] * inv + 127) / 255;
                                b = s[2] + (bg[2] * inv + 127) / 255;
                            }

                            yPlane[row * w + x + dx] = Yuv.Y(r, g, b);
                            sr += r;
                            sg += g;
                            sb += b;
                        }
                    }

                    sr = (sr + 2) >> 2;
                    sg = (sg + 2) >> 2;
                    sb = (sb + 2) >> 2;
                    var ci = (y / 2) * cw + x / 2;
                    uPlane[ci] = Yuv.U(sr, sg, sb);
                    vPlane[ci] = Yuv.V(sr, sg, sb);
                }
            }
        }
    }

    private static SKColor Colour(Rgb c) => new(c.R, c.G, c.B);

    public void Dispose()
    {
        neck.Dispose();
        shoulders.Dispose();
        neckPaint.Dispose();
        clothingPaint.Dispose();
        facePaint.Dispose();
        canvas.Dispose();
        foreground.Dispose();
        faceBitmap.Dispose();
    }
}
