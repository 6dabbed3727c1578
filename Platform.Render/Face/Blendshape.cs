namespace Platform.Render.Face;

/// <summary>
/// The channels of our blendshape basis. Expression channels run 0..1; head channels run -1..1 (1 = the basis's full
/// angle: yaw 25°, pitch 18° (down), roll 15°); breathing 0..1.
/// </summary>
public enum Blendshape
{
    JawOpen,
    LipsRound,
    LipsWide,
    LipsClosed,
    Smile,
    BlinkLeft,
    BlinkRight,
    BrowsUp,
    BrowsDown,
    HeadYaw,
    HeadPitch,
    HeadRoll,
    Breathing,
}

/// <summary>A full set of blendshape weights (one float per <see cref="Blendshape"/>).</summary>
public static class FaceWeights
{
    public const int Count = 13;

    public static float[] Create() => new float[Count];

    public static float[] Of(params (Blendshape Shape, float Weight)[] weights)
    {
        var w = Create();
        foreach (var (shape, weight) in weights)
        {
            w[(int)shape] = weight;
        }

        return w;
    }
}
