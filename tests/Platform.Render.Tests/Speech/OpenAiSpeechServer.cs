using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Platform.Render.Audio;
using Platform.Render.Speech.Flite;
using Platform.Render.Speech.PocketSphinx;

namespace Platform.Render.Tests.Speech;

/// <summary>
/// A local Kestrel server speaking OpenAI's audio wire protocol: <c>POST /v1/audio/transcriptions</c> (multipart,
/// verbose_json with words, transcribed for real by PocketSphinx) and <c>POST /v1/audio/speech</c> (JSON in, WAV or
/// raw 24 kHz PCM out, spoken by Flite). The model name selects failure modes: <c>fail-500</c>, <c>fail-429</c>,
/// <c>malformed</c>, <c>hang</c> (never answers), <c>pcm</c> (raw PCM instead of WAV).
/// </summary>
public sealed class OpenAiSpeechServer : IAsyncDisposable
{
    public const string ApiKey = "test-key";
    private readonly WebApplication _app;
    private readonly object _asrGate = new();
    private PocketSphinxStream? _asr;

    public List<string> Requests { get; } = [];

    public OpenAiSpeechServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapPost("/v1/audio/transcriptions", TranscribeAsync);
        _app.MapPost("/v1/audio/speech", SpeakAsync);
    }

    public Uri BaseUrl { get; private set; } = null!;

    public async Task StartAsync()
    {
        await _app.StartAsync();
        BaseUrl = new Uri(_app.Urls.First() + "/v1");
    }

    private static IResult Error(int status, string message) =>
        Results.Json(new { error = new { message, type = "invalid_request_error" } }, statusCode: status);

    private async Task<IResult> TranscribeAsync(HttpRequest request)
    {
        if (request.Headers.Authorization != $"Bearer {ApiKey}") return Error(401, "Incorrect API key provided");
        if (!request.HasFormContentType) return Error(400, "expected multipart/form-data");
        var form = await request.ReadFormAsync();
        var model = form["model"].ToString();
        lock (Requests) Requests.Add($"transcriptions model={model} format={form["response_format"]} granularity={form["timestamp_granularities[]"]}");
        if (Failure(model) is { } failure) return await failure;
        var file = form.Files["file"];
        if (file is null) return Error(400, "file is required");
        using var ms = new MemoryStream();
        await file.CopyToAsync(ms);
        if (!Wav.TryDecode(ms.ToArray(), out var samples, out var format, out var why)) return Error(400, "invalid audio: " + why);
        if (format != AudioFormat.Speech16k) return Error(400, $"test server expects 16 kHz mono, got {format}");

        Render.Speech.RecognitionResult result;
        lock (_asrGate)
        {
            _asr ??= new PocketSphinxRecognizer().Open(out _) ?? throw new InvalidOperationException("PocketSphinx unavailable");
            _asr.BeginUtterance(TimeSpan.Zero);
            _asr.Accept(samples);
            result = _asr.EndUtterance();
        }
        if (form["response_format"] == "text") return Results.Text(result.Transcript.Text);
        return Results.Json(new
        {
            task = "transcribe",
            language = "english",
            duration = samples.Length / 16_000.0,
            text = result.Transcript.Text,
            words = result.Transcript.Words.Select(w => new { word = w.Word, start = w.Start.TotalSeconds, end = w.End.TotalSeconds }),
        });
    }

    private async Task<IResult> SpeakAsync(HttpRequest request)
    {
        if (request.Headers.Authorization != $"Bearer {ApiKey}") return Error(401, "Incorrect API key provided");
        using var doc = await JsonDocument.ParseAsync(request.Body);
        var model = doc.RootElement.GetProperty("model").GetString() ?? "";
        var input = doc.RootElement.GetProperty("input").GetString() ?? "";
        var format = doc.RootElement.TryGetProperty("response_format", out var f) ? f.GetString() : "mp3";
        lock (Requests) Requests.Add($"speech model={model} format={format} input={input}");
        if (Failure(model) is { } failure) return await failure;
        if (input.Length == 0) return Error(400, "input is required");
        var speech = new FliteSynthesizer("rms").Synthesize(input);
        if (!speech.Ok) return Error(400, speech.Error!.Message);
        // OpenAI voices speak at 24 kHz.
        var audio = new Resampler(speech.SampleRate, 24_000).Process(speech.Audio);
        if (model == "pcm")
        {
            var raw = new byte[audio.Length * 2];
            for (var i = 0; i < audio.Length; i++) (raw[2 * i], raw[2 * i + 1]) = ((byte)audio[i], (byte)(audio[i] >> 8));
            return Results.Bytes(raw, "application/octet-stream");
        }
        return Results.Bytes(Wav.Encode(audio, new AudioFormat(24_000, 1)), "audio/wav");
    }

    private static Task<IResult>? Failure(string model) => model switch
    {
        "fail-500" => Task.FromResult(Error(500, "The server had an error while processing your request")),
        "fail-429" => Task.FromResult(Error(429, "Rate limit reached")),
        "malformed" => Task.FromResult(Results.Text("{\"text\": \"unterminated", "application/json")),
        "hang" => new TaskCompletionSource<IResult>().Task, // never answers: the client's timeout must fire
        _ => null,
    };

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(stop.Token);
        await _app.DisposeAsync();
        _asr?.Dispose();
    }
}
