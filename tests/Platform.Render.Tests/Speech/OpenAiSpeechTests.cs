using Platform.Render.Face;
using Platform.Render.Speech;
using Platform.Render.Speech.OpenAi;

namespace Platform.Render.Tests.Speech;

public sealed class OpenAiSpeechTests : IAsyncLifetime
{
    private readonly OpenAiSpeechServer _server = new();
    private readonly HttpClient _http = new();

    public Task InitializeAsync() => _server.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private OpenAiSpeechOptions Options(string model, string? key = OpenAiSpeechServer.ApiKey) =>
        new() { BaseUrl = _server.BaseUrl, ApiKey = key, Model = model, Timeout = TimeSpan.FromSeconds(60) };

    [Fact]
    public async Task Transcribes_an_utterance_with_word_times_in_media_time()
    {
        TestSpeech.RequireSpeechStack();
        using var asr = new OpenAiTranscriptionRecognizer(_http, Options("whisper-1"));
        var (stream, error) = await asr.OpenStreamAsync();
        Assert.Null(error);
        await using var _ = stream!;
        var audio = TestSpeech.Concat(TestSpeech.Silence(TimeSpan.FromMilliseconds(200)), TestSpeech.Say("Please call me back in the morning.", "awb"));
        stream!.BeginUtterance(TimeSpan.FromSeconds(10));
        for (var i = 0; i < audio.Length; i += 640)
            Assert.Null(await stream.AcceptAsync(audio.AsMemory(i, Math.Min(640, audio.Length - i))));
        var result = await stream.EndUtteranceAsync();

        Assert.True(result.Ok, result.Error?.ToString());
        // The server transcribes for real (PocketSphinx), so allow its one-word slips ("goal" for "call"); the client's
        // work is the wire format: the text, one timed word per recognised word, in media time.
        var words = WordErrorRate.Words(result.Transcript.Text);
        Assert.True(WordErrorRate.Distance(WordErrorRate.Words("Please call me back in the morning."), words) <= 1, result.Transcript.Text);
        Assert.Equal(words, result.Transcript.Words.Select(w => w.Word));
        Assert.All(result.Transcript.Words, w => Assert.InRange(w.Start, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(14)));
        Assert.Contains(_server.Requests, r => r == "transcriptions model=whisper-1 format=verbose_json granularity=word");
    }

    [Fact]
    public async Task Speaks_with_visemes_estimated_from_the_audio()
    {
        TestSpeech.RequireSpeechStack();
        foreach (var model in new[] { "tts-1", "pcm" })
        {
            using var tts = new OpenAiSpeechSynthesizer(_http, Options(model));
            var result = await tts.SynthesizeAsync("Hello there, how are you doing today?");
            Assert.True(result.Ok, result.Error?.ToString());
            Assert.Equal(24_000, result.SampleRate);
            Assert.InRange(result.Duration, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
            Assert.Empty(result.Phonemes);
            Assert.True(result.Visemes.Count > 5);
            Assert.Equal(TimeSpan.Zero, result.Visemes[0].Start);
            Assert.Equal(result.Duration, result.Visemes[^1].End);
            for (var i = 1; i < result.Visemes.Count; i++) Assert.Equal(result.Visemes[i - 1].End, result.Visemes[i].Start);
            Assert.Contains(result.Visemes, v => v.Viseme == Viseme.AA && v.Weight > 0.7f);
            Assert.Contains(result.Visemes, v => v.Viseme == Viseme.Silence);
        }
    }

    [Theory]
    [InlineData("fail-500", null, "server_error")]
    [InlineData("fail-429", null, "rate_limited")]
    [InlineData("whisper-1", "wrong-key", "unauthorized")]
    [InlineData("hang", null, "timeout")]
    [InlineData("malformed", null, "bad_response")]
    public async Task Endpoint_failures_come_back_as_error_results(string model, string? key, string code)
    {
        // Only the hanging endpoint needs a short timeout; the others answer at once (however loaded the machine).
        var options = Options(model, key ?? OpenAiSpeechServer.ApiKey) with
        {
            Timeout = model == "hang" ? TimeSpan.FromMilliseconds(300) : TimeSpan.FromSeconds(60),
        };
        using var asr = new OpenAiTranscriptionRecognizer(_http, options);
        var (stream, _) = await asr.OpenStreamAsync();
        stream!.BeginUtterance(TimeSpan.Zero);
        await stream.AcceptAsync(new short[8000]);
        var result = await stream.EndUtteranceAsync();
        Assert.False(result.Ok);
        Assert.Equal("asr_" + code, result.Error!.Code);
        Assert.True(result.Transcript.IsEmpty);

        using var tts = new OpenAiSpeechSynthesizer(_http, options);
        var speech = await tts.SynthesizeAsync("Hello.");
        Assert.False(speech.Ok);
        Assert.Equal(code == "bad_response" ? "tts_bad_response" : "tts_" + code, speech.Error!.Code);
        Assert.Empty(speech.Audio);
    }

    [Fact]
    public async Task Unreachable_endpoint_is_an_error_result()
    {
        var options = new OpenAiSpeechOptions { BaseUrl = new Uri("http://127.0.0.1:9/v1"), Model = "x", Timeout = TimeSpan.FromSeconds(2) };
        using var tts = new OpenAiSpeechSynthesizer(_http, options);
        var result = await tts.SynthesizeAsync("Hello.");
        Assert.Equal("tts_unreachable", result.Error?.Code);
    }

    [Fact]
    public async Task Unspeakable_text_is_refused_without_calling_the_endpoint()
    {
        using var tts = new OpenAiSpeechSynthesizer(_http, Options("tts-1"));
        var result = await tts.SynthesizeAsync("🙂🙂🎉");
        Assert.Equal("tts_unspeakable", result.Error?.Code);
        Assert.DoesNotContain(_server.Requests, r => r.StartsWith("speech", StringComparison.Ordinal));
    }
}
