using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Platform.Render.Audio;
using Platform.Render.Speech;
using Platform.Render.Speech.Flite;
using Platform.Render.Speech.PocketSphinx;

namespace Platform.Render.Tests.Speech;

/// <summary>
/// Test speech made at test time with Flite voices other than the avatar's (cached as WAV under the temp folder),
/// and guards that fail with the fix when the native speech stack is missing.
/// </summary>
internal static class TestSpeech
{
    public static readonly string[] UserVoices = ["rms", "awb", "kal16"];

    private static readonly string CacheDir = Path.Combine(Path.GetTempPath(), "platform-render-tests", "speech");
    private static readonly ConcurrentDictionary<string, FliteSynthesizer> Synths = new();

    public static void RequireSpeechStack()
    {
        Assert.True(FliteSynthesizer.IsAvailable(out var fliteReason), fliteReason);
        Assert.True(PocketSphinxRecognizer.IsAvailable(out var psReason), psReason);
    }

    /// <summary>16 kHz mono speech for <paramref name="text"/> in <paramref name="voice"/>.</summary>
    public static short[] Say(string text, string voice)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(voice + "\n" + text)))[..20];
        var path = Path.Combine(CacheDir, voice, key + ".wav");
        if (File.Exists(path) && Wav.TryDecode(File.ReadAllBytes(path), out var cached, out var fmt, out _) && fmt.SampleRate == 16_000)
            return cached;

        var synth = Synths.GetOrAdd(voice, v => new FliteSynthesizer(v));
        var result = synth.Synthesize(text);
        Assert.True(result.Ok, $"flite/{voice} could not say '{text}': {result.Error}");
        var audio = result.SampleRate == 16_000 ? result.Audio : new Resampler(result.SampleRate, 16_000).Process(result.Audio);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var tmp = path + "." + Environment.CurrentManagedThreadId + ".tmp";
        File.WriteAllBytes(tmp, Wav.Encode(audio, AudioFormat.Speech16k));
        File.Move(tmp, path, overwrite: true);
        return audio;
    }

    public static short[] Silence(TimeSpan duration) => new short[(int)MediaTime.ToSamples(duration, 16_000)];

    public static short[] Concat(params short[][] parts) => parts.SelectMany(p => p).ToArray();

    public static short[] Noise(TimeSpan duration, double rmsLevel, int seed)
    {
        var rng = new Random(seed);
        var n = (int)MediaTime.ToSamples(duration, 16_000);
        var result = new short[n];
        for (var i = 0; i < n; i++)
        {
            // Box-Muller Gaussian noise.
            var g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            result[i] = (short)Math.Clamp(g * rmsLevel * 32767, -32768, 32767);
        }
        return result;
    }
}

/// <summary>Word error rate by word-level Levenshtein distance over normalised words.</summary>
internal static class WordErrorRate
{
    public static string[] Words(string text) =>
        new string(text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) || c == '\'' ? c : ' ').ToArray())
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Substitutions + deletions + insertions turning <paramref name="reference"/> into <paramref name="hypothesis"/>.</summary>
    public static int Distance(IReadOnlyList<string> reference, IReadOnlyList<string> hypothesis)
    {
        var prev = new int[hypothesis.Count + 1];
        var cur = new int[hypothesis.Count + 1];
        for (var j = 0; j <= hypothesis.Count; j++) prev[j] = j;
        for (var i = 1; i <= reference.Count; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= hypothesis.Count; j++)
            {
                var sub = prev[j - 1] + (reference[i - 1] == hypothesis[j - 1] ? 0 : 1);
                cur[j] = Math.Min(sub, Math.Min(prev[j] + 1, cur[j - 1] + 1));
            }
            (prev, cur) = (cur, prev);
        }
        return prev[hypothesis.Count];
    }
}
