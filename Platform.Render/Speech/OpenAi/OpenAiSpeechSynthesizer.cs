using System.Net.Http.Json;
using Platform.Render.Audio;

namespace Platform.Render.Speech.OpenAi;

/// <summary>
/// TTS through an OpenAI-compatible <c>POST /audio/speech</c>. Asks for WAV (raw 24 kHz PCM is accepted too);
/// such endpoints give no phone timings, so visemes are estimated from the audio envelope.
/// </summary>
public sealed class OpenAiSpeechSynthesizer(HttpClient http, OpenAiSpeechOptions options) : ISpeechSynthesizer
{
    /// <summary>OpenAI's raw "pcm" format: 24 kHz 16-bit mono little-endian.</summary>
    private const int RawPcmRate = 24_000;

    public string Name => $"openai-compatible/{options.Model}/{options.Voice}";

    public async ValueTask<SynthesisResult> SynthesizeAsync(string clause, CancellationToken cancellationToken = default)
    {
        var original = clause ?? string.Empty;
        var text = SpeakableText.Clean(original);
        if (text.Length == 0)
            return SynthesisResult.Failed(original, "tts_unspeakable", "the text has no letters or digits a voice can say");
        if (text.Length > SpeakableText.MaxClauseChars)
            return SynthesisResult.Failed(original, "tts_clause_too_long",
                $"a clause may have at most {SpeakableText.MaxClauseChars} characters ({text.Length} given): split it with ClauseSplitter");

        using var request = new HttpRequestMessage(HttpMethod.Post, options.Endpoint("audio/speech"))
        {
            Content = JsonContent.Create(new { model = options.Model, input = text, voice = options.Voice, response_format = "wav" }),
        };
        OpenAiHttp.Authorise(request, options);
        var (response, error) = await OpenAiHttp.SendAsync(http, request, options, "tts", cancellationToken).ConfigureAwait(false);
        if (error is not null) return SynthesisResult.Failed(original, error.Code, error.Message);
        using (response)
        {
            var bytes = await response!.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            short[] audio;
            int rate;
            if (bytes.Length >= 4 && bytes.AsSpan(0, 4).SequenceEqual("RIFF"u8))
            {
                if (!Wav.TryDecode(bytes, out var samples, out var format, out var why))
                    return SynthesisResult.Failed(original, "tts_bad_response", why!);
                rate = format.SampleRate;
                audio = format.Channels == 1 ? samples : Downmix(samples);
            }
            else if (response.Content.Headers.ContentType?.MediaType is { } type && (type.Contains("json") || type.StartsWith("text/", StringComparison.Ordinal)))
            {
                return SynthesisResult.Failed(original, "tts_bad_response", $"expected audio, got {type}");
            }
            else
            {
                rate = RawPcmRate;
                audio = new short[bytes.Length / 2];
                for (var i = 0; i < audio.Length; i++) audio[i] = (short)(bytes[2 * i] | bytes[2 * i + 1] << 8);
            }
            if (audio.Length == 0) return SynthesisResult.Failed(original, "tts_bad_response", "the endpoint returned no audio");
            return new SynthesisResult(original, audio, rate, [], EnvelopeVisemes.Estimate(audio, rate));
        }
    }

    private static short[] Downmix(short[] stereo)
    {
        var mono = new short[stereo.Length / 2];
        for (var i = 0; i < mono.Length; i++) mono[i] = (short)((stereo[2 * i] + stereo[2 * i + 1]) >> 1);
        return mono;
    }

    public void Dispose()
    {
    }
}
