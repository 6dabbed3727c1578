using System.Globalization;

namespace Platform.Render.Face;

/// <summary>An sRGB colour; written and parsed as <c>#RRGGBB</c> so it stores well as JSON text.</summary>
public readonly record struct Rgb(byte R, byte G, byte B)
{
    public static Rgb Parse(string hex)
    {
        var s = hex.AsSpan().TrimStart('#');
        if (s.Length != 6 || !uint.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var v))
        {
            throw new FormatException($"Colour '{hex}' is not #RRGGBB.");
        }

        return new Rgb((byte)(v >> 16), (byte)(v >> 8), (byte)v);
    }

    public override string ToString() => $"#{R:X2}{G:X2}{B:X2}";

    public Rgb Scale(float f) => new(Clamp(R * f), Clamp(G * f), Clamp(B * f));

    public Rgb Mix(Rgb other, float t) =>
        new(Clamp(R + (other.R - R) * t), Clamp(G + (other.G - G) * t), Clamp(B + (other.B - B) * t));

    private static byte Clamp(float v) => (byte)Math.Clamp(MathF.Round(v), 0, 255);
}

public enum HairStyle
{
    Short,
    Long,
    Bob,
    Buzz,
}

/// <summary>Static shape of a replica's face, applied to the canonical mesh before the blendshapes (all 1 = canonical).</summary>
/// <param name="Width">Horizontal scale of the whole head (0.85–1.15).</param>
/// <param name="JawWidth">Extra horizontal scale of the jaw, growing towards the chin (0.8–1.2).</param>
/// <param name="ChinLength">Vertical scale below the mouth (0.85–1.2).</param>
public sealed record FaceShape(float Width = 1f, float JawWidth = 1f, float ChinLength = 1f)
{
    public FaceShape Validated()
    {
        static void Check(float v, float min, float max, string name)
        {
            if (!(v >= min && v <= max))
            {
                throw new ArgumentOutOfRangeException(name, v, $"{name} must be in [{min}, {max}].");
            }
        }

        Check(Width, 0.85f, 1.15f, nameof(Width));
        Check(JawWidth, 0.8f, 1.2f, nameof(JawWidth));
        Check(ChinLength, 0.85f, 1.2f, nameof(ChinLength));
        return this;
    }
}

public enum BackgroundKind
{
    Solid,
    Gradient,
    GreenScreen,
}

/// <summary>What is behind the replica. Green screen is pure <see cref="Key"/> outside the person.</summary>
public sealed record FaceBackground(BackgroundKind Kind, Rgb Top, Rgb Bottom, Rgb Key)
{
    public static readonly Rgb DefaultKey = new(0, 255, 0);

    public static FaceBackground Solid(Rgb colour) => new(BackgroundKind.Solid, colour, colour, DefaultKey);

    public static FaceBackground Gradient(Rgb top, Rgb bottom) => new(BackgroundKind.Gradient, top, bottom, DefaultKey);

    public static FaceBackground GreenScreen(Rgb? key = null) =>
        new(BackgroundKind.GreenScreen, key ?? DefaultKey, key ?? DefaultKey, key ?? DefaultKey);
}

/// <summary>
/// A replica's look: the parameters the control plane stores per replica. Everything the renderer draws comes from here
/// (procedural, not photoreal).
/// </summary>
public sealed record FaceLook(
    string Name,
    FaceShape Shape,
    Rgb Skin,
    Rgb Hair,
    HairStyle HairStyle,
    Rgb Eyes,
    Rgb Lips,
    Rgb Clothing,
    FaceBackground Background)
{
    /// <summary>The same look on a green screen (the conversation's <c>apply_greenscreen</c>).</summary>
    public FaceLook WithGreenScreen(Rgb? key = null) => this with { Background = FaceBackground.GreenScreen(key) };
}

/// <summary>Stock looks offered to every tenant.</summary>
public static class StockLooks
{
    public static readonly FaceLook Anna = new(
        "anna",
        new FaceShape(Width: 0.97f, JawWidth: 0.92f, ChinLength: 0.98f),
        Skin: Rgb.Parse("#F1C7A8"),
        Hair: Rgb.Parse("#8A3B1E"),
        HairStyle.Long,
        Eyes: Rgb.Parse("#4E7A4A"),
        Lips: Rgb.Parse("#C0616A"),
        Clothing: Rgb.Parse("#2F4F7F"),
        FaceBackground.Gradient(Rgb.Parse("#DCE6F0"), Rgb.Parse("#A9BCD0")));

    public static readonly FaceLook Marcus = new(
        "marcus",
        new FaceShape(Width: 1.05f, JawWidth: 1.1f, ChinLength: 1.04f),
        Skin: Rgb.Parse("#7A4B31"),
        Hair: Rgb.Parse("#1C1714"),
        HairStyle.Buzz,
        Eyes: Rgb.Parse("#3B2416"),
        Lips: Rgb.Parse("#6E3A33"),
        Clothing: Rgb.Parse("#5B6B5A"),
        FaceBackground.Gradient(Rgb.Parse("#E8E1D6"), Rgb.Parse("#B9AE9C")));

    public static readonly FaceLook Mei = new(
        "mei",
        new FaceShape(Width: 0.95f, JawWidth: 0.9f, ChinLength: 0.95f),
        Skin: Rgb.Parse("#E8BE9A"),
        Hair: Rgb.Parse("#17130F"),
        HairStyle.Bob,
        Eyes: Rgb.Parse("#2E1D12"),
        Lips: Rgb.Parse("#B85C66"),
        Clothing: Rgb.Parse("#C9C2B8"),
        FaceBackground.Solid(Rgb.Parse("#3C4A5A")));

    public static readonly FaceLook Ravi = new(
        "ravi",
        new FaceShape(Width: 1.02f, JawWidth: 1.03f, ChinLength: 1.0f),
        Skin: Rgb.Parse("#B07A55"),
        Hair: Rgb.Parse("#2B211B"),
        HairStyle.Short,
        Eyes: Rgb.Parse("#4A2F1C"),
        Lips: Rgb.Parse("#8E4F48"),
        Clothing: Rgb.Parse("#243447"),
        FaceBackground.Gradient(Rgb.Parse("#F3EFE7"), Rgb.Parse("#CFC6B6")));

    public static IReadOnlyList<FaceLook> All { get; } = [Anna, Marcus, Mei, Ravi];

    public static FaceLook? Find(string name) =>
        All.FirstOrDefault(l => string.Equals(l.Name, name, StringComparison.OrdinalIgnoreCase));
}
