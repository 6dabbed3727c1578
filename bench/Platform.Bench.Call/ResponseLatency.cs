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

    // Taps the page's audio graph: the microphone source and the playback worklet's output, each into an analyser read
    // every 5 ms on the audio context's clock.
    private const string Taps = """
        (() => {
          const connect = AudioNode.prototype.connect;
          const threshold = 300 / 32768;
          const lat = window.__latency = { lastLoudMic: null, loudMicSince: null, reply: null, speechEnd: null, queuedMs: 0, queuedAtReply: null };
          let mic = null, out = null, timer = null;
          const buf = new Float32Array(480); // 10 ms at 48 kHz
          const spoke = () => lat.loudMicSince !== null && lat.lastLoudMic - lat.loudMicSince > 0.3; // the sentence has begun
          const loud = (a) => { a.getFloatTimeDomainData(buf); let s = 0; for (const v of buf) s += v * v; return Math.sqrt(s / buf.length) > threshold; };
          const watch = (ctx) => {
            if (timer) return;
            timer = setInterval(() => {
              const t = ctx.currentTime;
              const wall = performance.timeOrigin + performance.now();
              if (mic && loud(mic)) { lat.lastLoudMic = t; lat.lastLoudMicWall = wall; if (lat.loudMicSince === null) lat.loudMicSince = t; }
              if (out && spoke() && lat.reply === null && t - lat.lastLoudMic > 0.012 && loud(out)) { lat.reply = t; lat.speechEnd = lat.lastLoudMic; lat.queuedAtReply = lat.queuedMs; lat.replyWall = wall; lat.speechEndWall = lat.lastLoudMicWall; }
            }, 5);
          };
          const analyser = (ctx) => { const a = ctx.createAnalyser(); a.fftSize = 512; return a; };
          AudioNode.prototype.connect = function (target, ...rest) {
            if (target instanceof AudioDestinationNode && this instanceof AudioWorkletNode) {
              out = analyser(this.context); connect.call(this, out); watch(this.context);
              lat.ctx = this.context;
              this.port.addEventListener('message', (e) => { if (e.data.type === 'clock') { lat.queuedMs = e.data.queuedMs; lat.starvedMs = e.data.starvedMs; lat.clock = e.data; } });
            }
            return connect.call(this, target, ...rest);
          };
          // The replica's audio as it reaches the page (before its playback queue), and the worker's media clock on the
          // wall clock (any event with a timestamp and a media time).
          const post = MessagePort.prototype.postMessage;
          MessagePort.prototype.postMessage = function (m, ...rest) {
            if (m && m.type === 'audio' && lat.speechEnd === null && lat.arrival === undefined && spoke()) {
              const pcm = new Int16Array(m.pcm);
              for (let i = 0; i + 480 <= pcm.length; i += 480) {
                let e = 0; for (let j = i; j < i + 480; j++) e += pcm[j] * pcm[j];
                if (Math.sqrt(e / 480) / 32768 > threshold) { lat.arrival = performance.timeOrigin + performance.now(); lat.arrivalEnd = m.t / 1000 + pcm.length / 48; break; }
              }
            }
            return post.call(this, m, ...rest);
          };
          const Socket = window.WebSocket;
          window.WebSocket = function (...args) {
            const ws = new Socket(...args);
            ws.addEventListener('message', (e) => {
              if (typeof e.data !== 'string' || lat.origin !== undefined) return;
              const m = JSON.parse(e.data);
              if (m.timestamp && typeof m.media_time === 'number') lat.origin = Date.parse(m.timestamp) - m.media_time * 1000;
            });
            return ws;
          };
          Object.assign(window.WebSocket, Socket);
          window.WebSocket.prototype = Socket.prototype;
          // Lip sync: each picture the page draws (its media time on the canvas) against the audio clock at that moment;
          // a picture that came late is drawn behind its sound.
          lat.av = [];
          document.addEventListener('DOMContentLoaded', () => new MutationObserver((records) => {
            const c = lat.clock;
            if (!c || !c.playing || c.t < 0 || !lat.ctx || lat.av.length > 20000) return;
            const sound = c.t / 1000 + (lat.ctx.currentTime - c.ctxTime) * 1000;
            for (const r of records) lat.av.push(sound - parseFloat(r.target.dataset.mediaTime) * 1000);
          }).observe(document.body, { subtree: true, attributes: true, attributeFilter: ['data-media-time'] }));
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
        await using var llm = await OpenAiChatServer.StartAsync(OpenAiChatServerOptions.Benchmark());
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
        var added = new List<double>(); // what the path around the engine added: the latency less the engine's own share
        var lipSync = new List<double>(); // how far each drawn picture was behind the sound being played (ms)
        var starved = new List<double>(); // per run: what the page played as silence because its queue ran dry (ms)
        var listened = 0.0; // seconds of call the runs lasted, on the page's audio clock
        var missed = 0;
        for (var i = 0; i < runs + 1; i++) // run 0 warms caches and is not counted
        {
            var sentence = i % Sentences.Length;
            await using var browser = await CallBench.LaunchAsync(playwright, wavs[sentence] + "%noloop");
            var (id, url) = await CallBench.WarmConversationAsync(http, talking);
            await using var context = await browser.NewContextAsync();
            await context.AddInitScriptAsync(Taps);
            if (Environment.GetEnvironmentVariable("BENCH_MIC") is { Length: > 0 } mic) // e.g. {"autoGainControl":false}
            {
                await context.AddInitScriptAsync("(() => { const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices); navigator.mediaDevices.getUserMedia = (c) => gum({ ...c, audio: { ...c.audio, ..." + mic + " } }); })();");
            }
            var page = await context.NewPageAsync();
            await page.GotoAsync(url);
            await page.ClickAsync("#notice-action");
            try
            {
                await page.WaitForFunctionAsync("() => window.__latency && window.__latency.reply !== null", null, new() { Timeout = 30_000 });
            }
            catch (TimeoutException)
            {
                // Say what did happen, and go on with the next run (a run without an answer counts as a miss).
                var seen = await page.EvaluateAsync<string>("() => JSON.stringify({ ...window.__latency, av: window.__latency.av.length, ctx: undefined })");
                var c = await http.GetFromJsonAsync<JsonObject>($"/v2/conversations/{id}?verbose=true");
                var events = string.Join(" | ", (c?["events"]?.AsArray() ?? []).TakeLast(12).Select(e => $"{e?["event_type"]} {e?["properties"]?.ToJsonString()}"));
                Console.WriteLine($"run {i,2}: no answer heard in 30 s; page {seen}; events {events}");
                missed++;
                await http.PostAsync($"/v2/conversations/{id}/end", null);
                continue;
            }

            var reply = await page.EvaluateAsync<double>("() => window.__latency.reply");
            var end = await page.EvaluateAsync<double>("() => window.__latency.speechEnd");
            var ms = (reply - end) * 1000;
            var queued = await page.EvaluateAsync<double>("() => window.__latency.queuedAtReply ?? -1");
            var endWall = await page.EvaluateAsync<double>("() => window.__latency.speechEndWall");
            var replyWall = await page.EvaluateAsync<double>("() => window.__latency.replyWall");
            var arrival = await page.EvaluateAsync<double>("() => window.__latency.arrival ?? NaN");
            var chunkDue = await page.EvaluateAsync<double>("() => window.__latency.origin + window.__latency.arrivalEnd");
            if (i > 0)
            {
                latencies.Add(ms);
            }

            if (i > 0)
            {
                lipSync.AddRange(await page.EvaluateAsync<double[]>("() => window.__latency.av"));
                starved.Add(await page.EvaluateAsync<double>("() => window.__latency.starvedMs ?? 0"));
                listened += await page.EvaluateAsync<double>("() => window.__latency.ctx ? window.__latency.ctx.currentTime : 0");
            }

            var worker = await WorkerMetricsAsync(http, id);
            await http.PostAsync($"/v2/conversations/{id}/end", null);
            if (i > 0 && worker is { } own && !double.IsNaN(arrival))
            {
                added.Add(ms - (chunkDue - own.SpeechEnd));
            }

            var split = worker is { } w
                ? FormattableString.Invariant($"microphone path {w.SpeechEnd - endWall,4:F0} ms, worker {w.Line}, way back {replyWall - w.FirstAudio,4:F0} ms (first loud chunk: made → page {arrival - chunkDue,4:F0} ms, page → heard {replyWall - arrival,4:F0} ms, page queue {queued:F0} ms)")
                : "the worker recorded no turn_metrics";
            Console.WriteLine(FormattableString.Invariant($"run {i,2}: '{Sentences[sentence]}' end of speech → first replica audio {ms,6:F0} ms{(i == 0 ? "  [warm-up]" : "")}: {split}"));
        }

        Console.WriteLine($"runs without an answer heard: {missed}");
        CallBench.Report("response latency in the browser (end of speech → first replica audio heard)", latencies);
        if (added.Count > 0)
        {
            // The engine's share of each turn is its own end of speech → first loud audio on its media clock (the end of
            // the 20 ms chunk that carried it); the rest is the page's capture, both ways through the Api, the worker's
            // jitter buffer and pacer, and the page's playback.
            CallBench.Report("added by the browser path (latency − the engine's own speech end → first loud audio)", added);
        }
        // A picture is drawn at the first animation frame after the sound reaches its time: 0–50 ms behind when it came
        // in time (the 33 ms frame grid and the 17 ms display refresh); more is a picture that came late.
        Console.WriteLine(FormattableString.Invariant($"page playback ran dry: {starved.Sum():F0} ms in all over {listened:F0} s of calls (per run: {string.Join(", ", starved.Select(x => x.ToString("F0", CultureInfo.InvariantCulture)))} ms)"));
        if (lipSync.Count > 0)
        {
            CallBench.Report("lip sync: picture behind the sound when drawn", lipSync);
        }

        return 0;
    }

    /// <summary>
    /// The worker's own account of the turn: its metrics (milliseconds from the end of speech on its media clock) and,
    /// in Unix milliseconds on the machine's clock that the page shares, when it put the end of speech and its first
    /// audio (the event's timestamp is the worker's start plus the media time, to the millisecond).
    /// </summary>
    private static async Task<(double SpeechEnd, double FirstAudio, string Line)?> WorkerMetricsAsync(HttpClient http, string id)
    {
        JsonNode? e = null;
        string? heard = null;
        for (var wait = 0; e is null && wait < 150; wait++) // recorded when the replica's turn ends
        {
            await Task.Delay(wait == 0 ? 0 : 100);
            var c = await http.GetFromJsonAsync<JsonObject>($"/v2/conversations/{id}?verbose=true");
            var events = c?["events"]?.AsArray() ?? [];
            e = events.LastOrDefault(x => x?["event_type"]?.GetValue<string>() == "conversation.turn_metrics");
            heard = events.LastOrDefault(x => x?["event_type"]?.GetValue<string>() == "conversation.utterance" && x["properties"]?["role"]?.GetValue<string>() == "user")
                ?["properties"]?["speech"]?.GetValue<string>();
        }

        if (e?["properties"] is not { } m || m["first_audio_ms"]?.GetValue<double>() is not { } firstAudio)
        {
            return null;
        }

        var end = DateTimeOffset.Parse(e["timestamp"]!.GetValue<string>(), CultureInfo.InvariantCulture).ToUnixTimeMilliseconds();
        var line = string.Join(", ", new[] { "floor_decision_ms", "asr_final_ms", "llm_first_token_ms", "first_audio_ms" }
            .Select(k => FormattableString.Invariant($"{k[..^3].Replace('_', ' ')} {m[k]?.GetValue<double>() ?? double.NaN:F0}")));
        return (end, end + firstAudio, "[" + line + $", heard '{heard}']");
    }

    private static string WriteWav(FliteSynthesizer voice, string text, int index)
    {
        var said = voice.Synthesize(text);
        var speech = said.SampleRate == 16_000 ? said.Audio : new Resampler(said.SampleRate, 16_000).Process(said.Audio);
        var samples = new short[40_000].Concat(speech).Concat(new short[16_000 * 8]).ToArray(); // 2.5 s, the sentence, 8 s
        // A quiet room's noise floor under it all (about −75 dBFS, far under the loudness threshold): a real microphone never
        // gives digital zero, and the browser's gain control, fed zeros, turns itself up and distorts the first words.
        var noise = new Random(index);
        for (var i = 0; i < samples.Length; i++)
        {
            samples[i] = (short)Math.Clamp(samples[i] + (noise.NextDouble() - 0.5) * 20, short.MinValue, short.MaxValue);
        }

        var path = Path.Combine(Path.GetTempPath(), string.Create(CultureInfo.InvariantCulture, $"bench-sentence-{index}.wav"));
        CallBench.WriteWav(path, samples);
        return path;
    }
}
