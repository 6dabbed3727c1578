using Platform.Render.Face;

namespace Platform.Render.Speech;

/// <summary>
/// ARPAbet phone → viseme. The vocabulary and the phone table are the face's (<see cref="Face.Visemes.FromArpabet"/>):
/// one table for the whole engine, so what TTS reports is exactly what the mouth shows.
/// </summary>
public static class PhonemeVisemes
{
    /// <summary>Viseme of an ARPAbet phone (stress digits ignored); pauses and unknown phones are silence.</summary>
    public static Viseme For(string phone) => Face.Visemes.FromArpabet(phone);

    /// <summary>How far the jaw/lips open for a viseme, 0 (closed) to 1.</summary>
    public static float Opening(Viseme viseme) => viseme switch
    {
        Viseme.Silence or Viseme.MBP => 0f,
        Viseme.FV => 0.2f,
        Viseme.TH or Viseme.SZ or Viseme.L => 0.3f,
        Viseme.KG or Viseme.SH or Viseme.R => 0.4f,
        Viseme.IY or Viseme.UW or Viseme.W => 0.5f,
        Viseme.EH => 0.7f,
        Viseme.OW => 0.8f,
        Viseme.AA => 1f,
        _ => 0.3f,
    };

    /// <summary>Visemes for a phone timeline, adjacent equal visemes merged.</summary>
    public static IReadOnlyList<VisemeTiming> FromPhonemes(IReadOnlyList<PhonemeTiming> phones)
    {
        var result = new List<VisemeTiming>(phones.Count);
        foreach (var ph in phones)
        {
            var v = For(ph.Phone);
            if (result.Count > 0 && result[^1].Viseme == v && result[^1].End == ph.Start)
                result[^1] = result[^1] with { End = ph.End };
            else
                result.Add(new VisemeTiming(v, ph.Start, ph.End, Opening(v)));
        }
        return result;
    }
}
