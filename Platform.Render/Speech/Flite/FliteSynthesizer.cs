using System.Runtime.InteropServices;
using System.Text;

namespace Platform.Render.Speech.Flite;

/// <summary>
/// Flite through P/Invoke with phone timings from the utterance's Segment relation. Voices are registered once
/// per process and shared; Flite keeps global state, so synthesis is serialised process-wide (~20 ms a clause).
/// </summary>
public sealed class FliteSynthesizer : ISpeechSynthesizer
{
    /// <summary>The avatar's default voice.</summary>
    public const string DefaultVoice = "slt";

    private static readonly object Gate = new();
    private static readonly Dictionary<string, IntPtr> Voices = new(StringComparer.Ordinal);
    private static bool _initialised;

    private readonly IntPtr _voice;
    private readonly string? _error;

    public FliteSynthesizer(string voice = DefaultVoice)
    {
        VoiceName = voice;
        _voice = LoadVoice(voice, out _error);
    }

    public string VoiceName { get; }

    public string Name => $"flite/{VoiceName}";

    /// <summary>Null when the voice loaded; else why not.</summary>
    public string? LoadError => _error;

    public static bool IsAvailable(out string? reason, string voice = DefaultVoice)
    {
        LoadVoice(voice, out reason);
        return reason is null;
    }

    public ValueTask<SynthesisResult> SynthesizeAsync(string clause, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested) return ValueTask.FromCanceled<SynthesisResult>(cancellationToken);
        return new ValueTask<SynthesisResult>(Synthesize(clause));
    }

    public unsafe SynthesisResult Synthesize(string? clause)
    {
        var original = clause ?? string.Empty;
        if (_error is not null) return SynthesisResult.Failed(original, "tts_unavailable", _error);
        var text = SpeakableText.Clean(original);
        if (text.Length == 0)
            return SynthesisResult.Failed(original, "tts_unspeakable", "the text has no letters or digits a voice can say");
        if (text.Length > SpeakableText.MaxClauseChars)
            return SynthesisResult.Failed(original, "tts_clause_too_long",
                $"a clause may have at most {SpeakableText.MaxClauseChars} characters ({text.Length} given): split it with ClauseSplitter");

        var utf8 = Encoding.UTF8.GetBytes(text + "\0");
        lock (Gate)
        {
            IntPtr utt;
            fixed (byte* p = utf8) utt = FliteNative.flite_synth_text(p, _voice);
            if (utt == IntPtr.Zero) return SynthesisResult.Failed(original, "tts_failed", "Flite returned no utterance");
            try
            {
                var wave = FliteNative.utt_wave(utt);
                if (wave == IntPtr.Zero) return SynthesisResult.Failed(original, "tts_failed", "Flite returned no audio");
                var rate = Marshal.ReadInt32(wave, FliteNative.WaveSampleRate);
                var count = Marshal.ReadInt32(wave, FliteNative.WaveNumSamples);
                var channels = Math.Max(1, Marshal.ReadInt32(wave, FliteNative.WaveNumChannels));
                var samplesPtr = Marshal.ReadIntPtr(wave, FliteNative.WaveSamples);
                var audio = new short[count / channels];
                if (count > 0 && samplesPtr != IntPtr.Zero)
                {
                    var src = new ReadOnlySpan<short>((void*)samplesPtr, count);
                    for (var i = 0; i < audio.Length; i++) audio[i] = src[i * channels];
                }
                var phones = ReadPhones(utt);
                return new SynthesisResult(original, audio, rate, phones, PhonemeVisemes.FromPhonemes(phones));
            }
            finally
            {
                FliteNative.delete_utterance(utt);
            }
        }
    }

    private static unsafe List<PhonemeTiming> ReadPhones(IntPtr utt)
    {
        var phones = new List<PhonemeTiming>();
        fixed (byte* segment = "Segment\0"u8, name = "name\0"u8, end = "end\0"u8)
        {
            var relation = FliteNative.utt_relation(utt, segment);
            if (relation == IntPtr.Zero) return phones;
            var previousEnd = TimeSpan.Zero;
            for (var item = FliteNative.relation_head(relation); item != IntPtr.Zero; item = FliteNative.item_next(item))
            {
                var phone = Marshal.PtrToStringUTF8(FliteNative.item_feat_string(item, name)) ?? "pau";
                var stop = TimeSpan.FromSeconds(FliteNative.item_feat_float(item, end));
                if (stop < previousEnd) stop = previousEnd;
                phones.Add(new PhonemeTiming(phone, previousEnd, stop));
                previousEnd = stop;
            }
        }
        return phones;
    }

    private static IntPtr LoadVoice(string voice, out string? error)
    {
        lock (Gate)
        {
            if (Voices.TryGetValue(voice, out var cached))
            {
                error = null;
                return cached;
            }
            try
            {
                if (!_initialised)
                {
                    FliteNative.flite_init();
                    _initialised = true;
                }
                if (voice.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '_'))
                {
                    error = $"invalid Flite voice name '{voice}'";
                    return IntPtr.Zero;
                }
                if (!NativeLibrary.TryLoad($"libflite_cmu_us_{voice}.so.1", out var lib)
                    || !NativeLibrary.TryGetExport(lib, $"register_cmu_us_{voice}", out var register))
                {
                    error = $"Flite voice '{voice}' not found (libflite_cmu_us_{voice}.so.1): install Debian libflite1";
                    return IntPtr.Zero;
                }
                IntPtr handle;
                unsafe
                {
                    handle = ((delegate* unmanaged<IntPtr, IntPtr>)register)(IntPtr.Zero);
                }
                if (handle == IntPtr.Zero)
                {
                    error = $"Flite voice '{voice}' failed to register";
                    return IntPtr.Zero;
                }
                Voices[voice] = handle;
                error = null;
                return handle;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
            {
                error = $"{FliteNative.Library} not loadable ({ex.Message}): install Debian libflite1";
                return IntPtr.Zero;
            }
        }
    }

    /// <summary>Voices are process-wide and live as long as the process.</summary>
    public void Dispose()
    {
    }
}
