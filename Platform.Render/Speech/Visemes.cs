namespace Platform.Render.Speech;

/// <summary>Mouth shapes (the 15 used by common lip-sync rigs). The face animator maps them to blendshapes.</summary>
public enum Viseme
{
    Silence,
    PP, // p b m: lips closed
    FF, // f v: lower lip to teeth
    TH, // th dh: tongue between teeth
    DD, // t d
    KK, // k g ng hh
    CH, // ch jh sh zh
    SS, // s z
    NN, // n l
    RR, // r er
    AA, // aa ae ah ay aw
    E,  // eh ey
    IH, // ih iy y
    OH, // ao ow oy
    OU, // uw uh w
}

/// <summary>ARPAbet phone → viseme, written for this platform, with a nominal mouth opening per viseme.</summary>
public static class PhonemeVisemes
{
    private static readonly Dictionary<string, Viseme> Table = new(StringComparer.OrdinalIgnoreCase)
    {
        ["pau"] = Viseme.Silence, ["sil"] = Viseme.Silence, ["h#"] = Viseme.Silence, ["sp"] = Viseme.Silence,
        ["p"] = Viseme.PP, ["b"] = Viseme.PP, ["m"] = Viseme.PP,
        ["f"] = Viseme.FF, ["v"] = Viseme.FF,
        ["th"] = Viseme.TH, ["dh"] = Viseme.TH,
        ["t"] = Viseme.DD, ["d"] = Viseme.DD, ["dx"] = Viseme.DD,
        ["k"] = Viseme.KK, ["g"] = Viseme.KK, ["ng"] = Viseme.KK, ["hh"] = Viseme.KK,
        ["ch"] = Viseme.CH, ["jh"] = Viseme.CH, ["sh"] = Viseme.CH, ["zh"] = Viseme.CH,
        ["s"] = Viseme.SS, ["z"] = Viseme.SS,
        ["n"] = Viseme.NN, ["l"] = Viseme.NN, ["el"] = Viseme.NN, ["en"] = Viseme.NN,
        ["r"] = Viseme.RR, ["er"] = Viseme.RR, ["axr"] = Viseme.RR,
        ["aa"] = Viseme.AA, ["ae"] = Viseme.AA, ["ah"] = Viseme.AA, ["ay"] = Viseme.AA, ["aw"] = Viseme.AA, ["ax"] = Viseme.AA,
        ["eh"] = Viseme.E, ["ey"] = Viseme.E,
        ["ih"] = Viseme.IH, ["iy"] = Viseme.IH, ["y"] = Viseme.IH, ["ix"] = Viseme.IH,
        ["ao"] = Viseme.OH, ["ow"] = Viseme.OH, ["oy"] = Viseme.OH,
        ["uw"] = Viseme.OU, ["uh"] = Viseme.OU, ["w"] = Viseme.OU,
    };

    /// <summary>Viseme of an ARPAbet phone (stress digits ignored); unknown phones count as a neutral DD.</summary>
    public static Viseme For(string phone)
    {
        var p = phone.TrimEnd('0', '1', '2');
        return Table.TryGetValue(p, out var v) ? v : Viseme.DD;
    }

    /// <summary>How far the jaw/lips open for a viseme, 0 (closed) to 1.</summary>
    public static float Opening(Viseme viseme) => viseme switch
    {
        Viseme.Silence or Viseme.PP => 0f,
        Viseme.FF => 0.2f,
        Viseme.TH or Viseme.DD or Viseme.NN or Viseme.SS => 0.3f,
        Viseme.KK or Viseme.CH or Viseme.RR => 0.4f,
        Viseme.IH or Viseme.OU => 0.5f,
        Viseme.E => 0.7f,
        Viseme.OH => 0.8f,
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
