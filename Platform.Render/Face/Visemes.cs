namespace Platform.Render.Face;

/// <summary>Mouth shapes the animator knows (one per group of phonemes that look alike).</summary>
public enum Viseme
{
    Silence,
    AA,
    EH,
    IY,
    OW,
    UW,
    MBP,
    FV,
    TH,
    L,
    SZ,
    SH,
    KG,
    R,
    W,
}

/// <summary>A viseme on a clip's timeline, in seconds from the clip's start (from TTS phoneme timings).</summary>
public readonly record struct VisemeCue(Viseme Viseme, double Start, double End);

public static class Visemes
{
    /// <summary>Mouth target of a viseme: jaw open, lips round, lips wide, lips closed; and its dominance in blending.</summary>
    internal static (float Jaw, float Round, float Wide, float Closed, float Dominance) Target(Viseme v) => v switch
    {
        Viseme.AA => (0.85f, 0f, 0.1f, 0f, 1f),
        Viseme.EH => (0.5f, 0f, 0.35f, 0f, 1f),
        Viseme.IY => (0.25f, 0f, 0.7f, 0f, 1f),
        Viseme.OW => (0.6f, 0.75f, 0f, 0f, 1f),
        Viseme.UW => (0.25f, 0.95f, 0f, 0f, 1.2f),
        Viseme.MBP => (0f, 0f, 0f, 1f, 3f),
        Viseme.FV => (0.1f, 0f, 0.2f, 0.55f, 2f),
        Viseme.TH => (0.2f, 0f, 0.15f, 0f, 0.8f),
        Viseme.L => (0.35f, 0f, 0.15f, 0f, 0.7f),
        Viseme.SZ => (0.12f, 0f, 0.45f, 0f, 0.9f),
        Viseme.SH => (0.2f, 0.6f, 0f, 0f, 1.2f),
        Viseme.KG => (0.35f, 0f, 0.1f, 0f, 0.6f),
        Viseme.R => (0.25f, 0.45f, 0f, 0f, 0.8f),
        Viseme.W => (0.15f, 0.9f, 0f, 0f, 1.5f),
        _ => (0f, 0f, 0f, 0.6f, 0.7f),
    };

    /// <summary>ARPAbet phone (Flite/CMU, stress digits allowed) → viseme; <c>pau</c>/<c>sil</c> and unknowns → silence.</summary>
    public static Viseme FromArpabet(string phone)
    {
        var p = phone.TrimEnd('0', '1', '2').ToUpperInvariant();
        return p switch
        {
            "AA" or "AE" or "AH" or "AY" or "AW" => Viseme.AA,
            "EH" or "EY" => Viseme.EH,
            "IH" or "IY" or "Y" => Viseme.IY,
            "AO" or "OW" or "OY" => Viseme.OW,
            "UH" or "UW" => Viseme.UW,
            "M" or "B" or "P" => Viseme.MBP,
            "F" or "V" => Viseme.FV,
            "TH" or "DH" => Viseme.TH,
            "L" => Viseme.L,
            "S" or "Z" or "T" or "D" or "N" => Viseme.SZ,
            "SH" or "ZH" or "CH" or "JH" => Viseme.SH,
            "K" or "G" or "NG" or "HH" => Viseme.KG,
            "R" or "ER" => Viseme.R,
            "W" => Viseme.W,
            _ => Viseme.Silence,
        };
    }

    /// <summary>Phone timings (name, end time in seconds, as Flite's Segment relation gives them) → viseme cues.</summary>
    public static IReadOnlyList<VisemeCue> FromPhoneEnds(IEnumerable<(string Phone, double End)> phones)
    {
        var cues = new List<VisemeCue>();
        var start = 0.0;
        foreach (var (phone, end) in phones)
        {
            if (end > start)
            {
                cues.Add(new VisemeCue(FromArpabet(phone), start, end));
            }

            start = Math.Max(start, end);
        }

        return cues;
    }
}

/// <summary>
/// Something the replica says, placed on the media timeline: visemes (from TTS timings) and optionally its 16-bit PCM,
/// whose loudness envelope modulates the jaw (or drives it alone when there are no visemes).
/// </summary>
public sealed class SpeechClip
{
    private const double EnvelopeRate = 100; // envelope frames per second

    public SpeechClip(TimeSpan mediaStart, IReadOnlyList<VisemeCue> visemes, ReadOnlySpan<short> pcm = default, int sampleRate = 0)
    {
        MediaStart = mediaStart;
        Visemes = [.. visemes.OrderBy(v => v.Start)];
        if (!pcm.IsEmpty)
        {
            if (sampleRate <= 0)
            {
                throw new ArgumentOutOfRangeException(nameof(sampleRate), "A PCM buffer needs its sample rate.");
            }

            Envelope = ComputeEnvelope(pcm, sampleRate);
        }

        var audioEnd = Envelope is null ? 0 : Envelope.Length / EnvelopeRate;
        Duration = TimeSpan.FromSeconds(Math.Max(audioEnd, Visemes.Count == 0 ? 0 : Visemes.Max(v => v.End)));
    }

    public TimeSpan MediaStart { get; }

    public TimeSpan Duration { get; }

    public IReadOnlyList<VisemeCue> Visemes { get; }

    /// <summary>Loudness 0..1 at 100 Hz, or null without audio.</summary>
    public float[]? Envelope { get; }

    internal float EnvelopeAt(double seconds)
    {
        if (Envelope is null || seconds < 0)
        {
            return 0;
        }

        var x = seconds * EnvelopeRate;
        var i = (int)x;
        if (i >= Envelope.Length - 1)
        {
            return i < Envelope.Length ? Envelope[i] : 0;
        }

        var f = (float)(x - i);
        return Envelope[i] * (1 - f) + Envelope[i + 1] * f;
    }

    private static float[] ComputeEnvelope(ReadOnlySpan<short> pcm, int rate)
    {
        var hop = Math.Max(1, (int)(rate / EnvelopeRate));
        var frames = (pcm.Length + hop - 1) / hop;
        var env = new float[frames];
        for (var f = 0; f < frames; f++)
        {
            // 20 ms window centred on the frame.
            var from = Math.Max(0, f * hop - hop / 2);
            var to = Math.Min(pcm.Length, f * hop + hop + hop / 2);
            double sum = 0;
            for (var i = from; i < to; i++)
            {
                sum += (double)pcm[i] * pcm[i];
            }

            env[f] = to > from ? (float)Math.Sqrt(sum / (to - from)) : 0;
        }

        // Normalise to the loud part of the clip, then compress.
        var sorted = env.Where(e => e > 0).Order().ToArray();
        var reference = sorted.Length == 0 ? 1 : Math.Max(300f, sorted[(int)(0.95 * (sorted.Length - 1))]);
        for (var f = 0; f < frames; f++)
        {
            env[f] = MathF.Min(1, MathF.Sqrt(env[f] / reference));
        }

        return env;
    }
}
