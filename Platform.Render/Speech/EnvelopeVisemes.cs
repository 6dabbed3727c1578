using Platform.Render.Face;
namespace Platform.Render.Speech;

/// <summary>
/// Visemes for audio without a phone timeline (e.g. an HTTP TTS), estimated every 20 ms from loudness (how open)
/// and zero-crossing rate (hiss → SS, else a vowel shape scaled by loudness).
/// </summary>
public static class EnvelopeVisemes
{
    private static readonly TimeSpan Window = TimeSpan.FromMilliseconds(20);

    public static IReadOnlyList<VisemeTiming> Estimate(ReadOnlySpan<short> audio, int sampleRate) => Estimate(audio, sampleRate, null);

    /// <summary>
    /// As <see cref="Estimate(ReadOnlySpan{short}, int)"/> for one piece of a stream (audio that arrives in chunks):
    /// <paramref name="loudness"/> carries how loud the stream's loud parts were, so a short or quiet chunk is judged
    /// against the whole utterance, not against itself.
    /// </summary>
    public static IReadOnlyList<VisemeTiming> Estimate(ReadOnlySpan<short> audio, int sampleRate, StreamLoudness? loudness)
    {
        var result = new List<VisemeTiming>();
        if (audio.IsEmpty || sampleRate <= 0) return result;
        var window = Math.Max(1, (int)(sampleRate * Window.TotalSeconds));
        var count = (audio.Length + window - 1) / window;
        var rms = new double[count];
        var zcr = new double[count];
        for (var w = 0; w < count; w++)
        {
            var from = w * window;
            var to = Math.Min(audio.Length, from + window);
            double sum = 0;
            var crossings = 0;
            for (var i = from; i < to; i++)
            {
                sum += (double)audio[i] * audio[i];
                if (i > from && (audio[i] >= 0) != (audio[i - 1] >= 0)) crossings++;
            }
            rms[w] = Math.Sqrt(sum / (to - from)) / 32768.0;
            zcr[w] = crossings / (double)(to - from);
        }
        // Loudness relative to the clip's loud parts, so quiet and loud voices both move the mouth fully.
        var sorted = rms.OrderBy(x => x).ToArray();
        var loud = Math.Max(sorted[(int)(0.95 * (sorted.Length - 1))], 1e-4);
        if (loudness is not null)
        {
            loud = loudness.Update(loud, count);
        }

        var silenceFloor = Math.Max(0.004, loud * 0.06);

        for (var w = 0; w < count; w++)
        {
            var start = TimeSpan.FromSeconds(w * window / (double)sampleRate);
            var end = TimeSpan.FromSeconds(Math.Min(audio.Length, (w + 1) * window) / (double)sampleRate);
            Viseme v;
            float opening;
            if (rms[w] < silenceFloor)
            {
                v = Viseme.Silence;
                opening = 0;
            }
            else
            {
                opening = (float)Math.Clamp(Math.Log(rms[w] / silenceFloor) / Math.Log(loud / silenceFloor), 0.05, 1);
                v = zcr[w] > 0.25 && opening < 0.7 ? Viseme.SZ
                    : opening > 0.75 ? Viseme.AA
                    : opening > 0.5 ? Viseme.EH
                    : opening > 0.3 ? Viseme.IY
                    : Viseme.L;
            }
            if (result.Count > 0 && result[^1].Viseme == v)
                result[^1] = result[^1] with { End = end, Weight = Math.Max(result[^1].Weight, opening) };
            else
                result.Add(new VisemeTiming(v, start, end, opening));
        }
        return result;
    }
}

/// <summary>The loud level of a streamed utterance so far (RMS of ±1 samples), slowly forgetting (about 5 s).</summary>
public sealed class StreamLoudness
{
    private double _loud;

    /// <summary>Folds in a chunk whose loud level is <paramref name="chunkLoud"/> over <paramref name="windows"/> 20 ms windows; returns the level to use.</summary>
    public double Update(double chunkLoud, int windows)
    {
        var keep = Math.Pow(0.5, windows / 250.0);
        _loud = Math.Max(chunkLoud, _loud * keep);
        return _loud;
    }
}
