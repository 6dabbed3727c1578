using System.Net.Http.Headers;
using System.Text.Json;
using Platform.Render.Audio;

namespace Platform.Render.Speech.OpenAi;

/// <summary>
/// ASR through an OpenAI-compatible <c>POST /audio/transcriptions</c> (multipart WAV, <c>verbose_json</c> with word
/// timestamps). The endpoint is not streaming: audio is buffered per utterance and sent at its end; no partials.
/// </summary>
public sealed class OpenAiTranscriptionRecognizer(HttpClient http, OpenAiSpeechOptions options) : ISpeechRecognizer
{
    public string Name => $"openai-compatible/{options.Model}";

    public ValueTask<(IRecognitionStream? Stream, SpeechError? Error)> OpenStreamAsync(CancellationToken cancellationToken = default) =>
        new(((IRecognitionStream?)new Stream(http, options), (SpeechError?)null));

    public void Dispose()
    {
    }

    private sealed class Stream(HttpClient http, OpenAiSpeechOptions options) : IRecognitionStream
    {
        private readonly List<short> _audio = new(16_000 * 10);
        private readonly int _maxSamples = (int)Math.Min(int.MaxValue, MediaTime.ToSamples(options.MaxUtterance, 16_000));
        private TimeSpan _start;
        private bool _truncated;

        public void BeginUtterance(TimeSpan mediaStart)
        {
            _audio.Clear();
            _truncated = false;
            _start = mediaStart;
        }

        public ValueTask<Transcript?> AcceptAsync(ReadOnlyMemory<short> pcm16k, CancellationToken cancellationToken = default)
        {
            var room = _maxSamples - _audio.Count;
            if (pcm16k.Length > room) _truncated = true;
            if (room > 0) _audio.AddRange(pcm16k.Span[..Math.Min(room, pcm16k.Length)]);
            return ValueTask.FromResult<Transcript?>(null);
        }

        public async ValueTask<RecognitionResult> EndUtteranceAsync(CancellationToken cancellationToken = default)
        {
            if (_audio.Count == 0) return new RecognitionResult(Transcript.EmptyFinal);
            var wav = Wav.Encode(_audio.ToArray(), AudioFormat.Speech16k);
            _audio.Clear();

            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(wav);
            file.Headers.ContentType = new MediaTypeHeaderValue("audio/wav");
            form.Add(file, "file", "utterance.wav");
            form.Add(new StringContent(options.Model), "model");
            form.Add(new StringContent("verbose_json"), "response_format");
            form.Add(new StringContent("word"), "timestamp_granularities[]");
            if (!string.IsNullOrEmpty(options.Language)) form.Add(new StringContent(options.Language), "language");
            using var request = new HttpRequestMessage(HttpMethod.Post, options.Endpoint("audio/transcriptions")) { Content = form };
            OpenAiHttp.Authorise(request, options);

            var (response, error) = await OpenAiHttp.SendAsync(http, request, options, "asr", cancellationToken).ConfigureAwait(false);
            if (error is not null) return new RecognitionResult(Transcript.EmptyFinal, error);
            using (response)
            {
                var body = await response!.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                var transcript = Parse(body, _start);
                if (transcript is null)
                    return RecognitionResult.Failed("asr_bad_response", "transcription response is not JSON with a 'text' field (nor plain text)");
                return new RecognitionResult(transcript,
                    _truncated ? new SpeechError("asr_truncated", $"utterance longer than {options.MaxUtterance.TotalSeconds:0} s: the rest was not sent") : null);
            }
        }

        /// <summary>verbose_json / json ({"text":..., "words":[{"word","start","end"}]}) or response_format=text.</summary>
        internal static Transcript? Parse(string body, TimeSpan start)
        {
            var trimmed = body.TrimStart();
            if (trimmed.Length == 0) return new Transcript(string.Empty, [], true);
            if (trimmed[0] != '{') return trimmed[0] == '<' ? null : new Transcript(body.Trim(), [], true);
            try
            {
                using var doc = JsonDocument.Parse(body);
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                    return null;
                var words = new List<WordTiming>();
                if (root.TryGetProperty("words", out var list) && list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var w in list.EnumerateArray())
                    {
                        if (w.ValueKind != JsonValueKind.Object
                            || !w.TryGetProperty("word", out var word) || word.ValueKind != JsonValueKind.String
                            || !w.TryGetProperty("start", out var s) || !s.TryGetDouble(out var sv)
                            || !w.TryGetProperty("end", out var e) || !e.TryGetDouble(out var ev)
                            || !double.IsFinite(sv) || !double.IsFinite(ev) || sv < 0 || ev < sv)
                            continue;
                        words.Add(new WordTiming(word.GetString()!.Trim(), start + TimeSpan.FromSeconds(sv), start + TimeSpan.FromSeconds(ev)));
                    }
                }
                return new Transcript(text.GetString()!.Trim(), words, true);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
