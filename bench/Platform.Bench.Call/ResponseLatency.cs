using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Render.Audio;
using Platform.Render.Speech.Flite;
using Platform.Testing.OpenAi;

/// <summary>
/// Response latency as a person on the page hears it: the fake microphone says one sentence (Flite, after 2.5 s of
/// silence); the page's own audio graph is tapped (its microphone source and the replica's playback, both on the page's
/// audio clock) and the latency is the first loud replica audio minus the last loud 10 ms of the sentence — the same
/// threshold (RMS 300 of 32767) the engine bench uses for its ground truth. The persona's LLM is the engine bench's
/// OpenAI-compatible stand-in (first token 200 ms, then 30 tokens/s), hosted here; everything between (the page's
/// capture, the socket through the Api, the worker's jitter buffer, the engine, the way back and the page's playback
/// queue) is the real path.
/// </summary>
internal static class ResponseLatency
{
    private static readonly string[] Sentences =
    [
        "What time does the next train leave?",
        "Is there a pharmacy near the station?",
        "Thank you very much for your help.",
        "Where can I buy a ticket?",
    ];

    private const string Answer = "Sure, I can help with that. The next one leaves in ten minutes from platform two. Would you like anything else?";

    // Taps the page's audio graph: the microphone source and the playback worklet's output, each into an analyser read
    // every 5 ms on the audio context's clock.
    private const string Taps = """
        (() => {
          const connect = AudioNode.prototype.connect;
          const threshold = 300 / 32768;
          const lat = window.__latency = { lastLoudMic: null, loudMicSince: null, reply: null, speechEnd: null };
          let mic = null, out = null, timer = null;
          const buf = new Float32Array(480); // 10 ms at 48 kHz
          const loud = (a) => { a.getFloatTimeDomainData(buf); let s = 0; for (const v of buf) s += v * v; return Math.sqrt(s / buf.length) > threshold; };
          const watch = (ctx) => {
            if (timer) return;
            timer = setInterval(() => {
              const t = ctx.currentTime;
              if (mic && loud(mic)) { lat.lastLoudMic = t; if (lat.loudMicSince === null) lat.loudMicSince = t; }
              const spoke = lat.loudMicSince !== null && lat.lastLoudMic - lat.loudMicSince > 0.3;
              if (out && spoke && lat.reply === null && t - lat.lastLoudMic > 0.012 && loud(out)) { lat.reply = t; lat.speechEnd = lat.lastLoudMic; }
            }, 5);
          };
          const analyser = (ctx) => { const a = ctx.createAnalyser(); a.fftSize = 512; return a; };
          AudioNode.prototype.connect = function (target, ...rest) {
            if (target instanceof AudioDestinationNode && this instanceof AudioWorkletNode) {
              out = analyser(this.context); connect.call(this, out); watch(this.context);
            }
            return connect.call(this, target, ...rest);
          };
          const source = AudioContext.prototype.createMediaStreamSource;
          AudioContext.prototype.createMediaStreamSource = function (stream) {
            const node = source.call(this, stream);
            mic = analyser(this); connect.call(node, mic); watch(this);
            return node;
          };
        })();
        """;

    public static async Task<int> RunAsync(HttpClient http, string persona, int runs)
    {
        var options = OpenAiChatServerOptions.Benchmark();
        options.Responder = _ => ChatScript.Reply(Answer);
        await using var llm = await OpenAiChatServer.StartAsync(options);
        var replica = (await http.GetFromJsonAsync<JsonObject>($"/v2/personas/{persona}"))?["default_replica_id"]?.GetValue<string>()
            ?? throw new InvalidOperationException("the persona has no default replica");
        var created = await http.PostAsJsonAsync("/v2/personas", new
        {
            system_prompt = "You answer travellers' questions.",
            default_replica_id = replica,
            layers = new { llm = new { model = "bench-model", base_url = llm.BaseUrl.ToString(), api_key = "sk-bench" } },
        });
        var talking = (await created.Content.ReadFromJsonAsync<JsonObject>())?["persona_id"]?.GetValue<string>()
            ?? throw new InvalidOperationException($"persona not created: {await created.Content.ReadAsStringAsync()}");
        Console.WriteLine("LLM: the engine bench's stand-in (first token 200 ms, then 30 tokens/s), on loopback");

        using var voice = new FliteSynthesizer("rms");
        var wavs = Sentences.Select((s, i) => WriteWav(voice, s, i)).ToList();
        using var playwright = await Playwright.CreateAsync();
        var latencies = new List<double>();
        for (var i = 0; i < runs + 1; i++) // run 0 warms caches and is not counted
        {
            var sentence = i % Sentences.Length;
            await using var browser = await CallBench.LaunchAsync(playwright, wavs[sentence] + "%noloop");
            var (id, url) = await CallBench.WarmConversationAsync(http, talking);
            await using var context = await browser.NewContextAsync();
            await context.AddInitScriptAsync(Taps);
            var page = await context.NewPageAsync();
            await page.GotoAsync(url);
            await page.ClickAsync("#notice-action");
            await page.WaitForFunctionAsync("() => window.__latency && window.__latency.reply !== null", null, new() { Timeout = 30_000 });
            var reply = await page.EvaluateAsync<double>("() => window.__latency.reply");
            var end = await page.EvaluateAsync<double>("() => window.__latency.speechEnd");
            var ms = (reply - end) * 1000;
            if (i > 0)
            {
                latencies.Add(ms);
            }

            Console.WriteLine(FormattableString.Invariant($"run {i,2}: '{Sentences[sentence]}' end of speech → first replica audio {ms,6:F0} ms{(i == 0 ? "  [warm-up]" : "")}"));
            await http.PostAsync($"/v2/conversations/{id}/end", null);
        }

        CallBench.Report("response latency in the browser (end of speech → first replica audio heard)", latencies);
        return 0;
    }

    private static string WriteWav(FliteSynthesizer voice, string text, int index)
    {
        var said = voice.Synthesize(text);
        var speech = said.SampleRate == 16_000 ? said.Audio : new Resampler(said.SampleRate, 16_000).Process(said.Audio);
        var samples = new short[40_000].Concat(speech).Concat(new short[16_000 * 8]).ToArray(); // 2.5 s, the sentence, 8 s
        var path = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"bench-sentence-{index}.wav"));
        CallBench.WriteWav(path, samples);
        return path;
    }
}
