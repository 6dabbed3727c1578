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
