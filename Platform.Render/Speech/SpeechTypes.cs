using Platform.Render.Face;
using Platform.Render.Audio;

namespace Platform.Render.Speech;

/// <summary>A stage's failure, reported instead of thrown: <see cref="Code"/> is stable, <see cref="Message"/> is for people.</summary>
public sealed record SpeechError(string Code, string Message)
{
    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>A recognised word with media times (from the start of the stream).</summary>
public sealed record WordTiming(string Word, TimeSpan Start, TimeSpan End);

/// <summary>A partial or final hypothesis. Word timings may be empty for partials.</summary>
public sealed record Transcript(string Text, IReadOnlyList<WordTiming> Words, bool IsFinal)
{
    public static readonly Transcript EmptyFinal = new(string.Empty, [], true);

    public bool IsEmpty => Text.Length == 0;
}

/// <summary>Outcome of an utterance: a final transcript (possibly empty) or an error.</summary>
public sealed record RecognitionResult(Transcript Transcript, SpeechError? Error = null)
{
    public bool Ok => Error is null;

    public static RecognitionResult Failed(string code, string message) => new(Transcript.EmptyFinal, new SpeechError(code, message));
}

/// <summary>An ARPAbet phone (lower case, <c>pau</c> = pause) with its span in the clause's audio.</summary>
public sealed record PhonemeTiming(string Phone, TimeSpan Start, TimeSpan End);

/// <summary>A mouth shape with its span in the clause's audio; <see cref="Weight"/> is how open/strong (0..1).</summary>
public sealed record VisemeTiming(Viseme Viseme, TimeSpan Start, TimeSpan End, float Weight = 1f);

/// <summary>One synthesised clause: mono audio, its phone timeline (when the engine has one) and visemes.</summary>
public sealed record SynthesisResult(
    string Text,
    short[] Audio,
    int SampleRate,
    IReadOnlyList<PhonemeTiming> Phonemes,
    IReadOnlyList<VisemeTiming> Visemes,
    SpeechError? Error = null)
{
    public bool Ok => Error is null;

    public TimeSpan Duration => MediaTime.FromSamples(Audio.Length, SampleRate);

    /// <summary>Samples quieter than this (about −50 dBFS) before the first louder one are the clause's leading silence.</summary>
    public const int SilenceAmplitude = 100;

    /// <summary>
    /// The clause without its leading silence beyond <paramref name="keep"/> (engines open with a pause: Flite's is
    /// about 165 ms), its phones and visemes moved with the audio; this same result when there is nothing to cut.
    /// </summary>
    public SynthesisResult WithoutLeadingSilence(TimeSpan keep)
    {
        var first = Array.FindIndex(Audio, a => Math.Abs((int)a) > SilenceAmplitude);
        var cut = first < 0 ? 0 : Math.Max(0, first - (int)MediaTime.ToSamples(keep, SampleRate));
        if (cut == 0)
        {
            return this;
        }

        var by = MediaTime.FromSamples(cut, SampleRate);
        TimeSpan Moved(TimeSpan t) => t - by < TimeSpan.Zero ? TimeSpan.Zero : t - by;
        return this with
        {
            Audio = Audio[cut..],
            Phonemes = [.. Phonemes.Where(p => p.End > by).Select(p => p with { Start = Moved(p.Start), End = Moved(p.End) })],
            Visemes = [.. Visemes.Where(v => v.End > by).Select(v => v with { Start = Moved(v.Start), End = Moved(v.End) })],
        };
    }

    public static SynthesisResult Failed(string text, string code, string message) =>
        new(text, [], 16_000, [], [], new SpeechError(code, message));
}
