using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Testing;
using static Microsoft.Playwright.Assertions;

namespace Platform.Browser.Tests;

/// <summary>
/// Calls end to end in Chromium: the page joins through the Api's relay to a real worker running the engine; the
/// replica greets, hears the fake microphone, answers through the tenant's LLM; captions, webhooks, transcript; and a
/// worker killed mid-call hands the call to the other worker with its history while the page reconnects by itself.
/// </summary>
[Collection(LiveCallCollection.Name)]
public sealed class LiveCallTests(LiveCallFixture fx)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);

    private static Task ExpectStateAsync(IPage page, string state) =>
        Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", state, new() { Timeout = (float)Deadline.TotalMilliseconds });

    private async Task<(JsonObject Created, IBrowserContext Context, IPage Page)> JoinAsync(HttpClient http, string persona, string? initScript = null)
    {
        var created = await BrowserFixture.Ok(await http.PostAsync("/v2/conversations", JsonContent(new JsonObject
        {
            ["persona_id"] = persona,
            ["custom_greeting"] = LiveCallFixture.Greeting,
            ["callback_url"] = fx.CallbackUrl,
            ["properties"] = new JsonObject { ["enable_closed_captions"] = true },
        })));
        var url = new Uri(fx.ApiBase, new Uri(created["conversation_url"]!.GetValue<string>()).AbsolutePath);
        // A warm replica: the pool's worker has started the session before the person arrives (as in production,
        // where the page opens some time after the conversation is created). The fake microphone starts at Join.
        var local = created["conversation_id"]!.GetValue<string>();
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(fx.Workers.Any(w => w.Sessions.Any(s => s.Conversation.Local == local))), Deadline, "the session running on a worker");
        var context = await fx.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 900, Height = 640 } });
        if (initScript is not null)
        {
            await context.AddInitScriptAsync(initScript);
        }
        var page = await context.NewPageAsync();
        await page.GotoAsync(url.ToString());
        await ExpectStateAsync(page, "prejoin");
        await page.ClickAsync("#notice-action");
        return (created, context, page);
    }

    [Fact]
    public async Task A_person_joins_hears_the_greeting_is_answered_and_the_call_is_recorded()
    {
        var (http, persona) = await fx.TenantAsync();
        using var _ = http;
        var (created, context, page) = await JoinAsync(http, persona);
        await using var __ = context;
        var id = created["conversation_id"]!.GetValue<string>();
        await ExpectStateAsync(page, "live");

        // The greeting, then the user's sentence heard and answered, all in the captions.
        var replicaCaptions = page.Locator(".caption.from-replica");
        await Expect(replicaCaptions.First).ToContainTextAsync("How can I help you today?", new() { Timeout = (float)Deadline.TotalMilliseconds });
        try
        {
            await Expect(page.Locator(".caption.from-user").First).ToBeVisibleAsync(new() { Timeout = (float)Deadline.TotalMilliseconds });
            await Expect(replicaCaptions.Last).ToContainTextAsync("Which day suits you?", new() { Timeout = (float)Deadline.TotalMilliseconds });
        }
        catch (PlaywrightException e)
        {
            var events = await BrowserFixture.Ok(await http.GetAsync($"/v2/conversations/{id}?verbose=true"));
            throw new Xunit.Sdk.XunitException($"{e.Message}\nevents: {events["events"]}");
        }
        await fx.ScreenshotAsync(page, "live-call");

        // The replica's face is on the canvas and keeps moving (VP8 from the worker, decoded by WebCodecs).
        var canvas = page.Locator("#video");
        await Expect(canvas).ToBeVisibleAsync();
        var frames = new HashSet<string>();
        await PlatformCluster.WaitUntilAsync(async () => frames.Add(await FaceAsync(page)) && frames.Count >= 3, Deadline, "the picture changing");

        // The LLM heard what the microphone said, with the persona's prompt and the tenant's key.
        var heard = (await page.Locator(".caption.from-user .said").First.InnerTextAsync()).Trim();
        var request = fx.Llm.Requests.Last(r => r.Messages.Any(m => (m!["content"]?.ToString() ?? "").Contains(heard, StringComparison.OrdinalIgnoreCase)));
        Assert.Equal("Bearer sk-clinic", request.Headers["authorization"]);

        // End it: the page shows the end, the verbose GET has the transcript, the callback got the events in order.
        await BrowserFixture.Ok(await http.PostAsync($"/v2/conversations/{id}/end", null));
        await ExpectStateAsync(page, "ended");
        var verbose = await BrowserFixture.Ok(await http.GetAsync($"/v2/conversations/{id}?verbose=true"));
        var transcript = verbose["events"]!.AsArray().Select(e => e!["event_type"]!.GetValue<string>()).ToList();
        Assert.Contains("conversation.utterance", transcript);
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(fx.Callbacks.Any(c => Is(c, id, "application.transcription_ready"))), Deadline, "transcription_ready");
        var mine = fx.Callbacks.Where(c => c["conversation_id"]!.GetValue<string>() == id).Select(c => c["event_type"]!.GetValue<string>()).ToList();
        Assert.Equal("system.replica_joined", mine[0]);
        Assert.True(mine.IndexOf("system.shutdown") < mine.IndexOf("application.transcription_ready"), string.Join(", ", mine));
        var lines = fx.Callbacks.First(c => Is(c, id, "application.transcription_ready"))["properties"]!["transcript"]!.AsArray()
            .Select(l => (l!["role"]!.GetValue<string>(), l["content"]!.GetValue<string>())).ToList();
        Assert.Equal(("replica", LiveCallFixture.Greeting), lines[0]);
        Assert.Equal("user", lines[1].Item1);
        Assert.Contains(("replica", LiveCallFixture.Answer), lines);
    }

    [Fact]
    public async Task A_worker_killed_mid_call_hands_it_over_with_its_history_and_the_page_reconnects()
    {
        var (http, persona) = await fx.TenantAsync();
        using var _ = http;
        var (created, context, page) = await JoinAsync(http, persona);
        await using var __ = context;
        var local = created["conversation_id"]!.GetValue<string>();
        await Expect(page.Locator(".caption.from-replica").Last).ToContainTextAsync("Which day suits you?", new() { Timeout = (float)Deadline.TotalMilliseconds });

        var running = fx.Workers.Single(w => w.Sessions.Any(s => s.Conversation.Local == local));
        await running.KillAsync();
        fx.Workers.Remove(running);
        await ExpectStateAsync(page, "reconnecting");
        await ExpectStateAsync(page, "live"); // on the other worker, found through the pool, without a click
        var frames = new HashSet<string>();
        await PlatformCluster.WaitUntilAsync(async () => frames.Add(await FaceAsync(page)) && frames.Count >= 3, Deadline, "new frames after the failover");
        var resumed = fx.Workers.Single(w => w.Sessions.Any(s => s.Conversation.Local == local));
        Assert.NotSame(running, resumed);

        // The next turn's LLM request carries the turns from before the failover.
        var before = fx.Llm.Requests.Count;
        var session = resumed.Sessions.Single(s => s.Conversation.Local == local);
        await session.Session.SayAsync("Let me check the calendar.");
        await Expect(page.Locator(".caption.from-replica").Last).ToContainTextAsync("Let me check the calendar.", new() { Timeout = (float)Deadline.TotalMilliseconds });
        await fx.ScreenshotAsync(page, "live-call-after-failover");
        Assert.Equal(before, fx.Llm.Requests.Count); // an echo asks no LLM
        var history = session.Session.Conversation!.History.Snapshot().Select(m => m.Content ?? "").ToList();
        Assert.Contains(LiveCallFixture.Greeting, history);
        Assert.Contains(LiveCallFixture.Answer, history);
        Assert.Contains(history, h => h.Length > 0 && !h.Contains("help you", StringComparison.Ordinal) && h != LiveCallFixture.Answer); // the user's turn
    }

    /// <summary>
    /// A loudspeaker next to the microphone, inside the page: whatever the page plays (its playback worklet into the
    /// speakers) comes back 30 ms later at half amplitude, mixed into the microphone stream the page captures — after
    /// the browser's own echo canceller, which never sees Web Audio output. window.__echoPeak is the loudest 50 ms RMS
    /// of that echo (so the test knows it was there).
    /// </summary>
    private const string SpeakerIntoMicrophone = """
        (() => {
          const connect = AudioNode.prototype.connect;
          const buses = new WeakMap();
          const bus = (ctx) => {
            let b = buses.get(ctx);
            if (b) return b;
            const mix = ctx.createGain();
            const delay = ctx.createDelay(1);
            delay.delayTime.value = 0.03;
            const gain = ctx.createGain();
            gain.gain.value = 0.5;
            const analyser = ctx.createAnalyser();
            analyser.fftSize = 2048;
            connect.call(delay, gain);
            connect.call(gain, mix);
            connect.call(gain, analyser);
            const samples = new Float32Array(analyser.fftSize);
            window.__echoPeak = 0;
            setInterval(() => {
              analyser.getFloatTimeDomainData(samples);
              let sum = 0;
              for (const v of samples) sum += v * v;
              const rms = Math.sqrt(sum / samples.length);
              if (Number.isFinite(rms)) window.__echoPeak = Math.max(window.__echoPeak, rms);
            }, 50);
            b = { mix, delay };
            buses.set(ctx, b);
            return b;
          };
          AudioNode.prototype.connect = function (target, ...rest) {
            if (target instanceof AudioDestinationNode && this instanceof AudioWorkletNode) connect.call(this, bus(this.context).delay);
            return connect.call(this, target, ...rest);
          };
          const source = AudioContext.prototype.createMediaStreamSource;
          AudioContext.prototype.createMediaStreamSource = function (stream) {
            const b = bus(this);
            connect.call(source.call(this, stream), b.mix);
            return b.mix;
          };
        })();
        """;

    [Fact]
    public async Task The_replicas_own_voice_coming_back_through_the_microphone_does_not_interrupt_it()
    {
        var (http, persona) = await fx.TenantAsync();
        using var _ = http;
        var (created, context, page) = await JoinAsync(http, persona, SpeakerIntoMicrophone);
        await using var __ = context;
        var id = created["conversation_id"]!.GetValue<string>();
        await ExpectStateAsync(page, "live");

        // The greeting, the user's sentence and the answer, all with the replica's voice leaking into the microphone.
        await Expect(page.Locator(".caption.from-replica").Last).ToContainTextAsync("Which day suits you?", new() { Timeout = (float)Deadline.TotalMilliseconds });

        // Then a long answer over a silent microphone: only its own echo comes back.
        var session = fx.Workers.SelectMany(w => w.Sessions).Single(s => s.Conversation.Local == id);
        const string Long = "Let me tell you how our clinic works. We open at eight in the morning and close at six in the evening. "
            + "You can book an appointment by phone, online, or at the front desk, and we will send you a reminder the day before.";
        await session.Session.SayAsync(Long);
        try
        {
            await Expect(page.Locator(".caption.from-replica").Last).ToContainTextAsync("reminder the day before", new() { Timeout = (float)Deadline.TotalMilliseconds });
        }
        catch (Exception e)
        {
            var so_far = await BrowserFixture.Ok(await http.GetAsync($"/v2/conversations/{id}?verbose=true"));
            throw new Xunit.Sdk.XunitException($"{e.Message}\necho peak {await page.EvaluateAsync<double>("() => window.__echoPeak")}, {session.Session.EchoState}\nevents: {so_far["events"]}");
        }
        var echoPeak = await page.EvaluateAsync<double>("() => window.__echoPeak");
        var events = await BrowserFixture.Ok(await http.GetAsync($"/v2/conversations/{id}?verbose=true"));
        var types = events["events"]!.AsArray().Select(e => e!["event_type"]!.GetValue<string>()).ToList();
        var utterances = events["events"]!.AsArray().Where(e => e!["event_type"]!.GetValue<string>() == "conversation.utterance")
            .Select(e => (Role: e!["properties"]!["role"]!.GetValue<string>(), Text: e["properties"]!["speech"]!.GetValue<string>())).ToList();
        var detail = $"echo peak {echoPeak:F3}, echo delay {session.Session.EchoDelay?.TotalMilliseconds:F0} ms; events: {string.Join(", ", types)}; utterances: {string.Join(" | ", utterances)}";

        Assert.True(echoPeak > 0.02, $"the echo never reached the microphone: {detail}"); // the test's power: it was loud
        Assert.NotNull(session.Session.EchoDelay);
        Assert.DoesNotContain("conversation.replica_interrupted", types);
        Assert.Equal(1, types.Count(t => t == "conversation.user.started_speaking")); // the person's one sentence, not the echo
        Assert.Equal([LiveCallFixture.Greeting, LiveCallFixture.Answer, Long], utterances.Where(u => u.Role == "replica").Select(u => u.Text));
        Assert.Single(utterances, u => u.Role == "user");
        await BrowserFixture.Ok(await http.PostAsync($"/v2/conversations/{id}/end", null));
    }

    /// <summary>A digest of the face region of the canvas.</summary>
    private static Task<string> FaceAsync(IPage page) => page.EvaluateAsync<string>(
        "() => { const c = document.getElementById('video'); const d = c.getContext('2d').getImageData(c.width * 0.35, c.height * 0.2, c.width * 0.3, c.height * 0.6).data; let h = 0; for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) | 0; return String(h); }");

    private static bool Is(JsonObject callback, string conversation, string type) =>
        callback["conversation_id"]?.GetValue<string>() == conversation && callback["event_type"]?.GetValue<string>() == type;

    private static StringContent JsonContent(JsonObject body) => new(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
}
