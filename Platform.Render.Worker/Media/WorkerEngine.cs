using System.Collections.Concurrent;
using Platform.Contracts;
using Platform.Render.Face;
using Platform.Render.Perception;
using Platform.Render.Sessions;
using Platform.Render.Speech;
using Platform.Render.Speech.Flite;
using Platform.Render.Speech.OpenAi;
using Platform.Render.Speech.PocketSphinx;

namespace Platform.Render.Worker.Media;

/// <summary>
/// What the sessions on this worker share: the VAD model, the speech recogniser, one Flite voice per voice name, one
/// face asset per look, and the HTTP client for tenants' OpenAI-compatible endpoints. Created on first use.
/// </summary>
public sealed class WorkerEngine : IDisposable
{
    private readonly Lazy<SileroVadModel> _vad = new(() => new SileroVadModel());
    private readonly Lazy<PocketSphinxRecognizer> _recognizer = new(() => new PocketSphinxRecognizer());
    private readonly ConcurrentDictionary<string, Lazy<FliteSynthesizer>> _voices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<FaceLook, Lazy<FaceAsset>> _faces = new();

    /// <param name="allowPrivateEndpoints">Let tenants' endpoints resolve to private, loopback or link-local addresses
    /// (a self-hosted LLM on the operator's network); otherwise such connections are refused at connect time, so a
    /// persona cannot point the worker at internal services.</param>
    public WorkerEngine(bool allowPrivateEndpoints = false) =>
        Http = new HttpClient(SafeHttp.CreateHandler(allowPrivateEndpoints)) { Timeout = Timeout.InfiniteTimeSpan };

    /// <summary>For the LLM and OpenAI-compatible speech (each call has its own timeout), through <see cref="SafeHttp"/>.</summary>
    public HttpClient Http { get; }

    /// <summary>Null when the built-in engines can run here; otherwise why not.</summary>
    public static string? Unavailable(string voice = FliteSynthesizer.DefaultVoice) =>
        !FliteSynthesizer.IsAvailable(out var reason, voice) || !PocketSphinxRecognizer.IsAvailable(out reason) ? reason
        : !File.Exists(FaceAssets.CanonicalMeshPath) ? $"the canonical face mesh is missing at {FaceAssets.CanonicalMeshPath}: run infra/install.sh"
        : null;

    /// <summary>The resources one session runs on. Speech endpoints of the persona replace the built-in engines; the
    /// returned disposables (per-session engines) end with the session.</summary>
    public (SessionResources Resources, IReadOnlyList<IDisposable> Owned) For(SessionSettings settings)
    {
        var owned = new List<IDisposable>();
        ISpeechRecognizer recognizer = _recognizer.Value;
        if (settings.Stt is { } stt)
        {
            var remote = new OpenAiTranscriptionRecognizer(Http, stt);
            owned.Add(remote);
            recognizer = remote;
        }
        ISpeechSynthesizer synthesizer = Voice(settings.FliteVoice);
        if (settings.Tts is { } tts)
        {
            var remote = new OpenAiSpeechSynthesizer(Http, tts);
            owned.Add(remote);
            synthesizer = remote;
        }
        var face = settings.Options.AudioOnly ? null : _faces.GetOrAdd(settings.Look, look => new Lazy<FaceAsset>(() => FaceAsset.Create(look))).Value;
        return (new SessionResources(_vad.Value, recognizer, synthesizer, face), owned);
    }

    private FliteSynthesizer Voice(string voice) =>
        _voices.GetOrAdd(voice, v => new Lazy<FliteSynthesizer>(() => new FliteSynthesizer(v))).Value;

    public void Dispose()
    {
        foreach (var face in _faces.Values.Where(f => f.IsValueCreated))
        {
            face.Value.Dispose();
        }
        foreach (var voice in _voices.Values.Where(v => v.IsValueCreated))
        {
            voice.Value.Dispose();
        }
        if (_recognizer.IsValueCreated)
        {
            _recognizer.Value.Dispose();
        }
        if (_vad.IsValueCreated)
        {
            _vad.Value.Dispose();
        }
        Http.Dispose();
    }
}
