using Platform.Render.Face;
using SkiaSharp;

namespace Platform.Render.Tests.Face;

/// <summary>Shared helpers: snapshot PNGs and pixel measures.</summary>
internal static class FaceTestSupport
{
    public static string OutputFolder
    {
        get
        {
            var dir = Path.Combine(AppContext.BaseDirectory, "face-snapshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    public static void SavePng(string name, ReadOnlySpan<byte> rgba, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        using var bitmap = new SKBitmap(info);
        rgba.CopyTo(bitmap.GetPixelSpan());
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(Path.Combine(OutputFolder, name + ".png"), data.ToArray());
    }

    /// <summary>Premultiplied RGBA over a flat grey, as luma (0..255).</summary>
    public static float[] LumaOverGrey(ReadOnlySpan<byte> rgba, int width, int height, byte grey = 128)
    {
        var luma = new float[width * height];
        for (var i = 0; i < luma.Length; i++)
        {
            var a = rgba[4 * i + 3];
            var inv = (255 - a) / 255f;
            var r = rgba[4 * i] + grey * inv;
            var g = rgba[4 * i + 1] + grey * inv;
            var b = rgba[4 * i + 2] + grey * inv;
            luma[i] = 0.299f * r + 0.587f * g + 0.114f * b;
        }

        return luma;
    }
}

internal static class Ssim
{
    /// <summary>Mean SSIM of two luma images over <paramref name="crop"/>, 7×7 uniform windows (integral images).</summary>
    public static double Compute(float[] a, float[] b, int width, (int X0, int Y0, int X1, int Y1) crop, int radius = 3)
    {
        const double c1 = 6.5025, c2 = 58.5225; // (0.01·255)², (0.03·255)²
        int w = crop.X1 - crop.X0, h = crop.Y1 - crop.Y0;
        var sa = new double[(w + 1) * (h + 1)];
        var sb = new double[(w + 1) * (h + 1)];
        var saa = new double[(w + 1) * (h + 1)];
        var sbb = new double[(w + 1) * (h + 1)];
        var sab = new double[(w + 1) * (h + 1)];
        for (var y = 0; y < h; y++)
        {
            for (var x = 0; x < w; x++)
            {
                double va = a[(y + crop.Y0) * width + x + crop.X0], vb = b[(y + crop.Y0) * width + x + crop.X0];
                var i = (y + 1) * (w + 1) + x + 1;
                var up = y * (w + 1) + x + 1;
                var left = (y + 1) * (w + 1) + x;
                var diag = y * (w + 1) + x;
                sa[i] = va + sa[up] + sa[left] - sa[diag];
                sb[i] = vb + sb[up] + sb[left] - sb[diag];
                saa[i] = va * va + saa[up] + saa[left] - saa[diag];
                sbb[i] = vb * vb + sbb[up] + sbb[left] - sbb[diag];
                sab[i] = va * vb + sab[up] + sab[left] - sab[diag];
            }
        }

        double Box(double[] s, int x0, int y0, int x1, int y1) =>
            s[y1 * (w + 1) + x1] - s[y0 * (w + 1) + x1] - s[y1 * (w + 1) + x0] + s[y0 * (w + 1) + x0];

        double total = 0;
        var count = 0;
        for (var y = radius; y < h - radius; y++)
        {
            for (var x = radius; x < w - radius; x++)
            {
                int x0 = x - radius, y0 = y - radius, x1 = x + radius + 1, y1 = y + radius + 1;
                double n = (x1 - x0) * (y1 - y0);
                var ma = Box(sa, x0, y0, x1, y1) / n;
                var mb = Box(sb, x0, y0, x1, y1) / n;
                var va = Box(saa, x0, y0, x1, y1) / n - ma * ma;
                var vb = Box(sbb, x0, y0, x1, y1) / n - mb * mb;
                var cov = Box(sab, x0, y0, x1, y1) / n - ma * mb;
                total += (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
                count++;
            }
        }

        return total / count;
    }
}

internal static class Stats
{
    public static double Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        var n = x.Count;
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < n; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }

        return sxx == 0 || syy == 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }
}
