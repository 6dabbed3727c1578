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

    /// <summary>Draws and converts the whole canvas every frame (the reference the fast path is checked against).</summary>
    internal bool WholeCanvas { get; init; }

    public static CompositorOptions Hd720 => new();

    public static CompositorOptions Hd1080 => new() { Width = 1920, Height = 1080 };
}

/// <summary>
/// Puts the rendered face on the canvas: background (or green screen), neck and shoulders, then the face region, into
/// pooled I420 frames. Per frame it allocates nothing.
/// <para>
/// Only the face changes from frame to frame; the body moves just with breathing. So when the renderer draws at the
/// face region's size (as a session sets it up), the background and body are kept as ready I420 "plates", one per
/// half-pixel of breathing shift (made once, on first use), and a frame is a plate copied, plus the face blended over
/// it in YUV — instead of drawing and converting the whole canvas again each frame.
/// </para>
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

    /// <summary>Breathing moves the body in steps of this many pixels (plates are cached per step).</summary>
    private const float ShiftStep = 0.5f;

    private readonly bool direct; // face drawn 1:1 into the face region: plates + YUV blend
    private readonly int plateTop; // plates hold rows [plateTop, Height); above them there is only background
    private readonly Dictionary<int, byte[]> plates = [];
    private readonly float[] lastWeights = new float[FaceWeights.Count];
    private int lastStep = -1;
    private bool foregroundStale;

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
        direct = !options.WholeCanvas && renderer.Width == FaceRect.Width && renderer.Height == FaceRect.Height;
        var bodyTop = Math.Min(neck.Bounds.Top, shoulders.Bounds.Top) - BreathShift(1) - 2;
        plateTop = Math.Clamp((int)MathF.Floor(bodyTop / 2) * 2, 0, Height);
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
    public ReadOnlySpan<byte> Foreground
    {
        get
        {
            if (foregroundStale)
            {
                // The fast path never draws the whole canvas; draw it now, as it was (for checks and tests).
                renderer.Render(lastWeights, faceRgba);
                DrawForeground(lastStep);
                foregroundStale = false;
            }

            return foreground.GetPixelSpan();
        }
    }

    /// <summary>Renders and composes one frame. Dispose the frame when sent.</summary>
    public I420Frame Compose(ReadOnlySpan<float> weights, TimeSpan timestamp)
    {
        renderer.Render(weights, faceRgba);
        // Breathing is a 0–1 weight; clamped, the body stays within the plates' rows and their number stays bounded.
        var breath = weights.Length > (int)Blendshape.Breathing ? Math.Clamp(weights[(int)Blendshape.Breathing], 0f, 1f) : 0;
        var step = (int)MathF.Round(BreathShift(breath) / ShiftStep);
        var frame = pool.Rent(timestamp);
        if (direct)
        {
            PlatePlusFace(step, frame);
            weights[..Math.Min(weights.Length, lastWeights.Length)].CopyTo(lastWeights);
            lastStep = step;
            foregroundStale = true;
        }
        else
        {
            DrawForeground(step);
            ToI420(foreground.GetPixelSpan(), frame);
        }

        return frame;
    }

    /// <summary>How far up (pixels) the body rises at this breathing weight.</summary>
    private float BreathShift(float breath) => breath * 0.3f * PixelsPerCm;

    /// <summary>The whole foreground on the canvas: body at the given breathing step, then the face (in faceRgba).</summary>
    private void DrawForeground(int step)
    {
        faceRgba.CopyTo(faceBitmap.GetPixelSpan());
        faceBitmap.NotifyPixelsChanged();
        DrawBody(step);
        using (var image = SKImage.FromBitmap(faceBitmap))
        {
            canvas.DrawImage(image, SKRect.Create(FaceRect.Left, FaceRect.Top, FaceRect.Width, FaceRect.Height), sampling, facePaint);
        }

        canvas.Flush();
    }

    private void DrawBody(int step)
    {
        canvas.Clear(SKColors.Transparent);
        canvas.Save();
        canvas.Translate(0, -step * ShiftStep);
        canvas.DrawPath(neck, neckPaint);
        canvas.DrawPath(shoulders, clothingPaint);
        canvas.Restore();
        canvas.Flush();
    }

    private void PlatePlusFace(int step, I420Frame frame)
    {
        if (!plates.TryGetValue(step, out var plate))
        {
            // First use of this breathing step: draw the body over the background once and keep its rows as I420.
            DrawBody(step);
            ToI420(foreground.GetPixelSpan(), frame);
            plate = new byte[PlateLength];
            CopyPlate(frame, plate, toFrame: false);
            plates[step] = plate;
            foregroundStale = true;
        }

        for (var y = 0; y < plateTop; y++)
        {
            frame.Y.Slice(y * Width, Width).Fill(backgroundY[y]);
        }

        for (var y = 0; y < plateTop / 2; y++)
        {
            frame.U.Slice(y * (Width / 2), Width / 2).Fill(backgroundU[y]);
            frame.V.Slice(y * (Width / 2), Width / 2).Fill(backgroundV[y]);
        }

        CopyPlate(frame, plate, toFrame: true);
        BlendFace(frame);
    }

    /// <summary>Memory held by the body plates so far (at most one per half-pixel of breathing).</summary>
    internal long PlateBytes => (long)plates.Count * PlateLength;

    private int PlateLength => (Height - plateTop) * Width + 2 * ((Height - plateTop) / 2 * (Width / 2));

    private void CopyPlate(I420Frame frame, byte[] plate, bool toFrame)
    {
        int ySize = (Height - plateTop) * Width, cSize = (Height - plateTop) / 2 * (Width / 2), cw = Width / 2;
        var y = frame.Y[(plateTop * Width)..];
        var u = frame.U[(plateTop / 2 * cw)..];
        var v = frame.V[(plateTop / 2 * cw)..];
        var py = plate.AsSpan(0, ySize);
        var pu = plate.AsSpan(ySize, cSize);
        var pv = plate.AsSpan(ySize + cSize, cSize);
        if (toFrame)
        {
            py.CopyTo(y);
            pu.CopyTo(u);
            pv.CopyTo(v);
        }
        else
        {
            y[..ySize].CopyTo(py);
            u[..cSize].CopyTo(pu);
            v[..cSize].CopyTo(pv);
        }
    }

    /// <summary>
    /// Blends the premultiplied face (faceRgba, 1:1 at FaceRect) over the frame's YUV. YUV is affine in RGB, so
    /// "face + (1 − α)·under" works on the planes directly; opaque pixels convert exactly as <see cref="ToI420"/> does.
    /// </summary>
    private unsafe void BlendFace(I420Frame frame)
    {
        int w = Width, cw = w / 2, fw = FaceRect.Width, fx0 = FaceRect.Left, fy0 = FaceRect.Top;
        int x0 = Math.Max(0, fx0 & ~1), y0 = Math.Max(0, fy0 & ~1);
        int x1 = Math.Min(w, FaceRect.Right + 1 & ~1), y1 = Math.Min(Height, FaceRect.Bottom + 1 & ~1);
        fixed (byte* dst = frame.Buffer)
        fixed (byte* face = faceRgba)
        {
            var yPlane = dst;
            var uPlane = dst + w * Height;
            var vPlane = uPlane + cw * (Height / 2);
            var zero = 0u;
            for (var y = y0; y < y1; y += 2)
            {
                var inTop = y >= fy0 && y < FaceRect.Bottom;
                var inBottom = y + 1 >= fy0 && y + 1 < FaceRect.Bottom;
                var top = inTop ? (uint*)(face + (y - fy0) * fw * 4) - fx0 : null;
                var bottom = inBottom ? (uint*)(face + (y + 1 - fy0) * fw * 4) - fx0 : null;
                for (var x = x0; x < x1; x += 2)
                {
                    var inLeft = x >= fx0 && x < FaceRect.Right;
                    var inRight = x + 1 >= fx0 && x + 1 < FaceRect.Right;
                    var p00 = inTop && inLeft ? top + x : &zero;
                    var p01 = inTop && inRight ? top + x + 1 : &zero;
                    var p10 = inBottom && inLeft ? bottom + x : &zero;
                    var p11 = inBottom && inRight ? bottom + x + 1 : &zero;
                    var alphaAll = *p00 & *p01 & *p10 & *p11 & 0xFF000000u;
                    var alphaAny = (*p00 | *p01 | *p10 | *p11) & 0xFF000000u;
                    if (alphaAny == 0)
                    {
                        continue; // nothing of the face here: the plate stays
                    }

                    var ci = (y / 2) * cw + x / 2;
                    int sr = 0, sg = 0, sb = 0;
                    if (alphaAll == 0xFF000000u)
                    {
                        Opaque(p00, yPlane + y * w + x, ref sr, ref sg, ref sb);
                        Opaque(p01, yPlane + y * w + x + 1, ref sr, ref sg, ref sb);
                        Opaque(p10, yPlane + (y + 1) * w + x, ref sr, ref sg, ref sb);
                        Opaque(p11, yPlane + (y + 1) * w + x + 1, ref sr, ref sg, ref sb);
                        sr = (sr + 2) >> 2;
                        sg = (sg + 2) >> 2;
                        sb = (sb + 2) >> 2;
                        uPlane[ci] = Yuv.U(sr, sg, sb);
                        vPlane[ci] = Yuv.V(sr, sg, sb);
                        continue;
                    }

                    var inv = 0;
                    inv += Over((byte*)p00, yPlane + y * w + x, ref sr, ref sg, ref sb);
                    inv += Over((byte*)p01, yPlane + y * w + x + 1, ref sr, ref sg, ref sb);
                    inv += Over((byte*)p10, yPlane + (y + 1) * w + x, ref sr, ref sg, ref sb);
                    inv += Over((byte*)p11, yPlane + (y + 1) * w + x + 1, ref sr, ref sg, ref sb);
                    // Chroma: the block's average premultiplied colour plus the uncovered share of what lies under it.
                    sr = (sr + 2) >> 2;
                    sg = (sg + 2) >> 2;
                    sb = (sb + 2) >> 2;
                    var keep = (inv + 2) >> 2; // 0..255
                    uPlane[ci] = Clamp(128 + ((-38 * sr - 74 * sg + 112 * sb + 128) >> 8) + (keep * (uPlane[ci] - 128) + 127) / 255);
                    vPlane[ci] = Clamp(128 + ((112 * sr - 94 * sg - 18 * sb + 128) >> 8) + (keep * (vPlane[ci] - 128) + 127) / 255);
                }
            }
        }

        static void Opaque(uint* p, byte* y, ref int sr, ref int sg, ref int sb)
        {
            var s = (byte*)p;
            *y = Yuv.Y(s[0], s[1], s[2]);
            sr += s[0];
            sg += s[1];
            sb += s[2];
        }

        static int Over(byte* s, byte* y, ref int sr, ref int sg, ref int sb)
        {
            var inv = 255 - s[3];
            if (inv != 255)
            {
                *y = Clamp(16 + ((66 * s[0] + 129 * s[1] + 25 * s[2] + 128) >> 8) + (inv * (*y - 16) + 127) / 255);
            }

            sr += s[0];
            sg += s[1];
            sb += s[2];
            return inv;
        }

        static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
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
    internal void ConvertForeground(I420Frame frame) => ToI420(Foreground, frame);

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
