using System.Numerics;
using SkiaSharp;

namespace Platform.Render.Face;

/// <summary>
/// Paints the procedural texture atlas of a look: shaded skin, lips, brows, lids, nostrils and hair in the left square;
/// mouth interior and eyeballs in the right square (see <see cref="HeadModel"/>). Procedural, not photoreal.
/// </summary>
public static class FaceTexture
{
    private static readonly Vector3 Light = Vector3.Normalize(new Vector3(-0.35f, 0.45f, 1f));

    public static SKBitmap Paint(HeadModel model, FaceLook look)
    {
        var t = model.AtlasSize;
        var bitmap = new SKBitmap(new SKImageInfo(2 * t, t, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        canvas.Clear(SKColors.Transparent);
        var ppc = model.AtlasPixelsPerCm;

        PaintSkin(canvas, model, look);
        PaintFeatures(canvas, model, look, ppc);
        PaintHair(canvas, model, look, ppc);
        PaintInterior(canvas, model, look, ppc);
        canvas.Flush();
        return bitmap;
    }

    private static void PaintSkin(SKCanvas canvas, HeadModel model, FaceLook look)
    {
        var faceVertices = CanonicalFaceMesh.VertexCount;
        var colours = new SKColor[model.VertexCount];
        for (var i = 0; i < faceVertices; i++)
        {
            colours[i] = ShadeSkin(look.Skin, model.Normals[i], model.Neutral[i]);
        }

        DrawLayer(canvas, model, TriangleLayer.Face, colours);

        // Fine skin grain, only where skin is.
        using var grain = new SKPaint
        {
            Shader = SKShader.CreatePerlinNoiseFractalNoise(0.35f * 512 / model.AtlasSize, 0.35f * 512 / model.AtlasSize, 2, 7),
            ColorFilter = AlphaFromRed(0.10f, 0, 0, 0),
            BlendMode = SKBlendMode.SrcATop,
        };
        canvas.DrawRect(0, 0, model.AtlasSize, model.AtlasSize, grain);
    }

    private static SKColor ShadeSkin(Rgb skin, Vector3 normal, Vector3 position)
    {
        var diffuse = MathF.Max(0, Vector3.Dot(normal, Light));
        var half = Vector3.Normalize(Light + Vector3.UnitZ);
        var spec = MathF.Pow(MathF.Max(0, Vector3.Dot(normal, half)), 24) * 0.10f;
        var occlusion = 0.86f + 0.14f * HeadModel.Smooth(-2.5f, 5.5f, position.Z);
        var shade = (0.58f + 0.5f * diffuse) * occlusion;
        var warm = 1 + 0.10f * (1 - diffuse);
        float r = skin.R * shade * warm + 255 * spec;
        float g = skin.G * shade + 255 * spec;
        float b = skin.B * shade * (2 - warm) + 255 * spec;
        return new SKColor(ToByte(r), ToByte(g), ToByte(b));
    }

    private static void PaintFeatures(SKCanvas canvas, HeadModel model, FaceLook look, float ppc)
    {
        var skin = look.Skin;
        SKPoint P(int i) => new(model.Atlas[i].X, model.Atlas[i].Y);
        SKPoint[] Pts(int[] idx) => [.. idx.Select(P)];

        // Soft shadow in the eye sockets and a touch of colour on the cheeks.
        foreach (var (upper, lower) in new[]
                 {
                     (FaceLandmarks.RightEyeUpper, FaceLandmarks.RightEyeLower),
                     (FaceLandmarks.LeftEyeUpper, FaceLandmarks.LeftEyeLower),
                 })
        {
            var c = Centre(Pts(upper).Concat(Pts(lower)));
            using var socket = new SKPaint
            {
                IsAntialias = true,
                Shader = SKShader.CreateRadialGradient(c + new SKPoint(0, -0.2f * ppc), 1.9f * ppc,
                    [Colour(skin.Scale(0.62f), 90), Colour(skin.Scale(0.62f), 0)], SKShaderTileMode.Clamp),
            };
            canvas.DrawCircle(c + new SKPoint(0, -0.2f * ppc), 1.9f * ppc, socket);
        }

        foreach (var cheek in new[] { FaceLandmarks.CheekRight, FaceLandmarks.CheekLeft })
        {
            var c = P(cheek);
            var blush = skin.Mix(look.Lips, 0.6f);
            using var paint = new SKPaint
            {
                IsAntialias = true,
                Shader = SKShader.CreateRadialGradient(c, 1.7f * ppc, [Colour(blush, 60), Colour(blush, 0)], SKShaderTileMode.Clamp),
            };
            canvas.DrawCircle(c, 1.7f * ppc, paint);
        }

        // Nostrils.
        foreach (var ala in new[] { FaceLandmarks.NoseAlaRight, FaceLandmarks.NoseAlaLeft })
        {
            var a = P(ala);
            var s = P(FaceLandmarks.Subnasale);
            var c = new SKPoint(s.X + (a.X - s.X) * 0.55f, s.Y + (a.Y - s.Y) * 0.55f - 0.12f * ppc);
            using var paint = new SKPaint
            {
                IsAntialias = true,
                Color = Colour(skin.Scale(0.32f), 210),
                MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 0.06f * ppc),
            };
            canvas.DrawOval(c, new SKSize(0.30f * ppc, 0.13f * ppc), paint);
        }

        // Lips: upper a little darker than lower, with a highlight on the lower lip.
        var lips = look.Lips;
        DrawBand(canvas, Pts(FaceLandmarks.LipsOuterUpper), Pts(FaceLandmarks.LipsInnerUpper), Colour(lips.Scale(0.85f), 235), 0.05f * ppc);
        DrawBand(canvas, Pts(FaceLandmarks.LipsOuterLower), Pts(FaceLandmarks.LipsInnerLower), Colour(lips, 235), 0.05f * ppc);
        {
            var lower = P(17);
            var inner = P(FaceLandmarks.LowerLipInner);
            var c = new SKPoint((lower.X + inner.X) / 2, (lower.Y + inner.Y) / 2 - 0.05f * ppc);
            using var paint = new SKPaint
            {
                IsAntialias = true,
                Shader = SKShader.CreateRadialGradient(c, 0.7f * ppc, [Colour(lips.Mix(new Rgb(255, 255, 255), 0.45f), 110), Colour(lips, 0)], SKShaderTileMode.Clamp),
            };
            canvas.DrawOval(c, new SKSize(0.9f * ppc, 0.25f * ppc), paint);
        }

        var lipLine = Pts(FaceLandmarks.LipsInnerUpper);
        using (var line = Stroke(Colour(lips.Scale(0.45f), 200), 0.07f * ppc, 0.03f * ppc))
        {
            using var path = Polyline(lipLine);
            canvas.DrawPath(path, line);
        }

        // Eyes: crease, upper lash line, lower lid line.
        var lash = new Rgb(30, 22, 20).Mix(look.Hair, 0.25f);
        foreach (var (upper, lower) in new[]
                 {
                     (FaceLandmarks.RightEyeUpper, FaceLandmarks.RightEyeLower),
                     (FaceLandmarks.LeftEyeUpper, FaceLandmarks.LeftEyeLower),
                 })
        {
            var up = Pts(upper);
            var crease = up.Select((p, i) =>
            {
                var s = MathF.Sin(MathF.PI * i / (up.Length - 1));
                return new SKPoint(p.X, p.Y - (0.18f + 0.30f * s) * ppc);
            }).ToArray();
            using (var paint = Stroke(Colour(skin.Scale(0.6f), 120), 0.09f * ppc, 0.06f * ppc))
            {
                using var path = Polyline(crease);
                canvas.DrawPath(path, paint);
            }

            using (var paint = Stroke(Colour(lash, 245), 0.13f * ppc, 0.02f * ppc))
            {
                using var path = Polyline(up);
                canvas.DrawPath(path, paint);
            }

            using (var paint = Stroke(Colour(skin.Scale(0.55f), 130), 0.05f * ppc, 0.02f * ppc))
            {
                using var path = Polyline(Pts(lower));
                canvas.DrawPath(path, paint);
            }
        }

        // Brows.
        var brow = look.Hair.Mix(new Rgb(25, 20, 18), 0.35f);
        DrawBand(canvas, Pts(FaceLandmarks.RightBrowUpper), Pts(FaceLandmarks.RightBrowLower), Colour(brow, 225), 0.05f * ppc);
        DrawBand(canvas, Pts(FaceLandmarks.LeftBrowUpper), Pts(FaceLandmarks.LeftBrowLower), Colour(brow, 225), 0.05f * ppc);
    }

    private static void PaintHair(SKCanvas canvas, HeadModel model, FaceLook look, float ppc)
    {
        var colours = new SKColor[model.VertexCount];
        var hair = look.Hair;
        var shellEnd = model.ShellStart + 2 * model.OuterLoop.Length;
        for (var i = 0; i < shellEnd; i++)
        {
            var p = model.Neutral[i];
            var amount = HairAmount(look.HairStyle, p, i >= CanonicalFaceMesh.VertexCount);
            var lightness = 0.75f + 0.35f * HeadModel.Smooth(-4f, 10f, p.Y) - 0.15f * HeadModel.Smooth(2f, -4f, p.Z);
            colours[i] = Colour(hair.Scale(lightness), (byte)(255 * amount));
        }

        using var layer = new SKPaint();
        canvas.SaveLayer(layer);
        DrawLayer(canvas, model, TriangleLayer.Face, colours);
        DrawLayer(canvas, model, TriangleLayer.Shell, colours);

        var scale = 512f / model.AtlasSize;
        var highlight = hair.Mix(new Rgb(255, 240, 220), 0.3f);
        using (var dark = new SKPaint
               {
                   Shader = SKShader.CreatePerlinNoiseFractalNoise(0.20f * scale, 0.018f * scale, 3, 11),
                   ColorFilter = AlphaFromRed(0.55f, 0, 0, 0),
                   BlendMode = SKBlendMode.SrcATop,
               })
        {
            canvas.DrawRect(0, 0, model.AtlasSize, model.AtlasSize, dark);
        }

        using (var light = new SKPaint
               {
                   Shader = SKShader.CreatePerlinNoiseFractalNoise(0.25f * scale, 0.02f * scale, 2, 23),
                   ColorFilter = AlphaFromRed(0.3f, highlight.R, highlight.G, highlight.B),
                   BlendMode = SKBlendMode.SrcATop,
               })
        {
            canvas.DrawRect(0, 0, model.AtlasSize, model.AtlasSize, light);
        }

        canvas.Restore();
    }

    /// <summary>How much hair covers a point of the head (0..1) for a style.</summary>
    private static float HairAmount(HairStyle style, Vector3 p, bool shell)
    {
        var ax = MathF.Abs(p.X);
        var hairline = style switch
        {
            HairStyle.Long => 7.3f - 0.075f * ax * ax,
            HairStyle.Bob => 5.9f - 0.04f * ax * ax,
            HairStyle.Buzz => 7.7f - 0.09f * ax * ax,
            _ => 7.5f - 0.085f * ax * ax,
        };
        var top = HeadModel.Smooth(hairline - 0.35f, hairline + 0.45f, p.Y);
        if (!shell)
        {
            return style == HairStyle.Buzz ? 0.85f * top : top;
        }

        var sides = style switch
        {
            HairStyle.Long => HeadModel.Smooth(3.5f, 6.0f, ax) * HeadModel.Smooth(-11.5f, -9.0f, p.Y),
            HairStyle.Bob => HeadModel.Smooth(4.0f, 6.5f, ax) * HeadModel.Smooth(-8.0f, -6.0f, p.Y),
            _ => 0f,
        };
        var amount = MathF.Max(HeadModel.Smooth(-1.0f, 1.5f, p.Y), sides);
        return style == HairStyle.Buzz ? 0.9f * amount : amount;
    }

    private static void PaintInterior(SKCanvas canvas, HeadModel model, FaceLook look, float ppc)
    {
        SKPoint A(int i) => new(model.Atlas[i].X, model.Atlas[i].Y);

        // Mouth interior, laid out as the open reference mouth.
        var mouth = model.MouthFill;
        var bounds = Bounds(mouth.Select(A));
        var mw = bounds.Width;
        var mh = bounds.Height;
        var mc = new SKPoint(bounds.MidX, bounds.MidY);
        var big = SKRect.Inflate(bounds, 0.3f * mw, 0.3f * mh);
        using (var paint = new SKPaint
               {
                   IsAntialias = true,
                   Shader = SKShader.CreateRadialGradient(mc, 0.7f * MathF.Max(mw, mh),
                       [new SKColor(46, 14, 18), new SKColor(96, 34, 40)], SKShaderTileMode.Clamp),
               })
        {
            canvas.DrawOval(big, paint);
        }

        using (var tongue = new SKPaint
               {
                   IsAntialias = true,
                   Shader = SKShader.CreateRadialGradient(new SKPoint(mc.X, bounds.Bottom - 0.05f * mh), 0.45f * mw,
                       [new SKColor(176, 84, 92), new SKColor(120, 48, 56)], SKShaderTileMode.Clamp),
                   MaskFilter = SKMaskFilter.CreateBlur(SKBlurStyle.Normal, 0.06f * ppc),
               })
        {
            canvas.DrawOval(new SKPoint(mc.X, bounds.Bottom + 0.02f * mh), new SKSize(0.34f * mw, 0.28f * mh), tongue);
        }

        var top = A(FaceLandmarks.UpperLipInner + 0).Y;
        using (var teeth = new SKPaint
               {
                   IsAntialias = true,
                   Shader = SKShader.CreateLinearGradient(new SKPoint(0, top), new SKPoint(0, top + 0.3f * mh),
                       [new SKColor(236, 232, 222), new SKColor(196, 188, 176)], SKShaderTileMode.Clamp),
               })
        {
            canvas.DrawRoundRect(new SKRect(mc.X - 0.3f * mw, bounds.Top - 0.1f * mh, mc.X + 0.3f * mw, bounds.Top + 0.24f * mh),
                0.05f * mw, 0.05f * mw, teeth);
        }

        // Eyeballs.
        foreach (var fill in new[] { model.RightEyeFill, model.LeftEyeFill })
        {
            var eb = Bounds(fill.Select(A));
            var c = A(fill[^1]);
            using (var sclera = new SKPaint
                   {
                       IsAntialias = true,
                       Shader = SKShader.CreateLinearGradient(new SKPoint(0, eb.Top), new SKPoint(0, eb.Bottom),
                           [new SKColor(170, 160, 156), new SKColor(236, 231, 226), new SKColor(222, 214, 210)],
                           [0f, 0.55f, 1f], SKShaderTileMode.Clamp),
                   })
            {
                canvas.DrawOval(SKRect.Inflate(eb, 0.4f * ppc, 0.4f * ppc), sclera);
            }

            var ic = new SKPoint(c.X, c.Y - 0.03f * ppc);
            var r = 0.55f * ppc;
            var iris = look.Eyes;
            using (var paint = new SKPaint
                   {
                       IsAntialias = true,
                       Shader = SKShader.CreateRadialGradient(ic, r,
                           [Colour(iris.Mix(new Rgb(255, 240, 200), 0.25f), 255), Colour(iris, 255), Colour(iris.Scale(0.45f), 255)],
                           [0.2f, 0.7f, 1f], SKShaderTileMode.Clamp),
                   })
            {
                canvas.DrawCircle(ic, r, paint);
            }

            using (var pupil = new SKPaint { IsAntialias = true, Color = new SKColor(12, 10, 10) })
            {
                canvas.DrawCircle(ic, 0.21f * ppc, pupil);
            }

            using (var glint = new SKPaint { IsAntialias = true, Color = new SKColor(255, 255, 255, 220) })
            {
                canvas.DrawCircle(ic + new SKPoint(-0.17f * ppc, -0.15f * ppc), 0.075f * ppc, glint);
            }
        }
    }

    private static void DrawLayer(SKCanvas canvas, HeadModel model, TriangleLayer layer, SKColor[] colours)
    {
        var tris = new List<ushort>();
        for (var t = 0; t < model.Layers.Length; t++)
        {
            if (model.Layers[t] == layer)
            {
                tris.Add((ushort)model.Triangles[3 * t]);
                tris.Add((ushort)model.Triangles[3 * t + 1]);
                tris.Add((ushort)model.Triangles[3 * t + 2]);
            }
        }

        var positions = model.Atlas.Select(a => new SKPoint(a.X, a.Y)).ToArray();
        using var paint = new SKPaint { IsAntialias = true, Color = SKColors.White };
        canvas.DrawVertices(SKVertexMode.Triangles, positions, null, colours, SKBlendMode.Dst, [.. tris], paint);
    }

    private static void DrawBand(SKCanvas canvas, SKPoint[] outer, SKPoint[] inner, SKColor colour, float blur)
    {
        using var builder = new SKPathBuilder();
        builder.MoveTo(outer[0]);
        foreach (var p in outer.Skip(1))
        {
            builder.LineTo(p);
        }

        foreach (var p in inner.Reverse())
        {
            builder.LineTo(p);
        }

        builder.Close();
        using var path = builder.Detach();
        using var paint = new SKPaint
        {
            IsAntialias = true,
            Color = colour,
            MaskFilter = blur > 0 ? SKMaskFilter.CreateBlur(SKBlurStyle.Normal, blur) : null,
        };
        canvas.DrawPath(path, paint);
    }

    private static SKPath Polyline(SKPoint[] points)
    {
        using var builder = new SKPathBuilder();
        builder.MoveTo(points[0]);
        for (var i = 1; i < points.Length - 1; i++)
        {
            var mid = new SKPoint((points[i].X + points[i + 1].X) / 2, (points[i].Y + points[i + 1].Y) / 2);
            builder.QuadTo(points[i], mid);
        }

        builder.LineTo(points[^1]);
        return builder.Detach();
    }

    private static SKPaint Stroke(SKColor colour, float width, float blur) => new()
    {
        IsAntialias = true,
        Style = SKPaintStyle.Stroke,
        StrokeWidth = width,
        StrokeCap = SKStrokeCap.Round,
        StrokeJoin = SKStrokeJoin.Round,
        Color = colour,
        MaskFilter = blur > 0 ? SKMaskFilter.CreateBlur(SKBlurStyle.Normal, blur) : null,
    };

    /// <summary>A colour filter that turns the red channel of a noise shader into the alpha of a flat colour.</summary>
    private static SKColorFilter AlphaFromRed(float strength, byte r, byte g, byte b) => SKColorFilter.CreateColorMatrix(
    [
        0, 0, 0, 0, r / 255f,
        0, 0, 0, 0, g / 255f,
        0, 0, 0, 0, b / 255f,
        strength, 0, 0, 0, -0.25f * strength,
    ]);

    private static SKRect Bounds(IEnumerable<SKPoint> points)
    {
        var list = points.ToList();
        return new SKRect(list.Min(p => p.X), list.Min(p => p.Y), list.Max(p => p.X), list.Max(p => p.Y));
    }

    private static SKPoint Centre(IEnumerable<SKPoint> points)
    {
        var list = points.ToList();
        return new SKPoint(list.Average(p => p.X), list.Average(p => p.Y));
    }

    private static SKColor Colour(Rgb c, byte alpha) => new(c.R, c.G, c.B, alpha);

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round(v), 0, 255);
}
