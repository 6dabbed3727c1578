using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Testing;
using static Microsoft.Playwright.Assertions;

namespace Platform.Browser.Tests;

/// <summary>The conversation page in Chromium against the real Api and cluster, with the fake worker behind the relay.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CallPageTests(BrowserFixture fx)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private async Task<(IBrowserContext Context, IPage Page, List<string> Console)> OpenAsync(Uri url, Func<IPage, Task>? before = null)
    {
        var context = await fx.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1024, Height = 700 } });
        var page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, m) => { lock (console) console.Add(m.Text); };
        page.PageError += (_, e) => { lock (console) console.Add("pageerror: " + e); };
        if (before is not null) await before(page);
        await page.GotoAsync(url.ToString());
        return (context, page, console);
    }

    private static Task ExpectStateAsync(IPage page, string state) =>
        Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", state);

    /// <summary>Opens the page, joins, and waits until the fake worker has the session and the page is live.</summary>
    private async Task<(IBrowserContext Context, IPage Page, FakeSession Session)> JoinLiveAsync(Conversation c)
    {
        var (context, page, _) = await OpenAsync(c.PageUrl);
        await JoinAsync(page);
        var session = await fx.Worker.SessionAsync(c.Id);
        await ExpectStateAsync(page, "live");
        return (context, page, session);
    }

    private static async Task JoinAsync(IPage page)
    {
        await ExpectStateAsync(page, "prejoin");
        await page.ClickAsync("#notice-action");
    }

    [Fact]
    public async Task Join_plays_the_replica_with_video_synced_to_audio_and_reports_playback()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(new { properties = new { enable_closed_captions = true } });
        fx.Worker.Script(c.Id, new SessionScript { AheadSeconds = 2.0 }); // video arrives two seconds before it is due
        var (context, page, console) = await OpenAsync(c.PageUrl);
        await using var _ = context;
        await Expect(page.Locator(".brand")).ToHaveTextAsync("Northwind Health");
        await fx.ScreenshotAsync(page, "prejoin");
        await JoinAsync(page);

        var session = await fx.Worker.SessionAsync(c.Id);
        var hello = (await session.Hello.Task)["properties"]!;
        Assert.Equal(48000, hello["sample_rate"]!.GetValue<int>());
        Assert.False(hello["audio_only"]!.GetValue<bool>());
        Assert.Equal(t.Id.Value, session.Tenant);
        await ExpectStateAsync(page, "live");

        // The audio clock advances and the page reports it (≤ 250 ms apart while audio plays).
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Playback.Count > 0 && session.Playback[^1] - session.Playback[0] >= 1.5),
            Deadline, "playback reports advancing by 1.5 s of media time");
        var reports = session.Playback;
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.Second >= p.First), $"playback reports go forward: {string.Join(", ", reports)}");
        var gaps = reports.Zip(reports.Skip(1)).Select(p => p.Second - p.First).Order().ToList();
        Assert.True(gaps[gaps.Count / 2] <= 0.3, $"playback reported about every 250 ms of media time: {string.Join(", ", reports)}");
        // Each report says how much audio is queued behind it: this worker keeps two seconds ahead.
        var queued = session.Received.Where(m => m["event_type"]?.GetValue<string>() == "system.playback")
            .Select(m => m["properties"]!["queued"]!.GetValue<double>()).ToList();
        Assert.All(queued, q => Assert.InRange(q, 0, 3.5));
        Assert.Contains(queued, q => q > 1.0);
        // And how long its playback has run dry so far: never less than before, and with two seconds queued, nothing
        // worth a gap (the time before the first audio came does not count).
        var starved = session.Received.Where(m => m["event_type"]?.GetValue<string>() == "system.playback")
            .Select(m => m["properties"]!["starved"]!.GetValue<double>()).ToList();
        Assert.True(starved.Zip(starved.Skip(1)).All(p => p.Second >= p.First), $"starved figures only grow: {string.Join(", ", starved)}");
        Assert.InRange(starved[^1], 0, 0.1);

        // Frames are drawn, the picture changes, and the frame shown is the one due at the audio clock, not the newest
        // received.
        var canvas = page.Locator("#video");
        await Expect(canvas).ToBeVisibleAsync();
        Assert.True(await page.EvaluateAsync<double>("() => performance.getEntriesByName('first-frame')[0].startTime") > 0);
        var first = await PixelAsync(page);
        await PlatformCluster.WaitUntilAsync(async () => await PixelAsync(page) != first, Deadline, "the picture changing");
        var shown = double.Parse((await canvas.GetAttributeAsync("data-media-time"))!, System.Globalization.CultureInfo.InvariantCulture);
        var played = session.Playback[^1];
        var sent = session.NextAudioUs / 1e6;
        Assert.True(shown <= played + 0.6, $"frame at {shown:F3} s shown while audio played {played:F3} s (sent up to {sent:F3} s)");
        Assert.True(shown >= played - 1.0, $"frame at {shown:F3} s lags audio at {played:F3} s");

        // Captions show both sides.
        await session.SendUtteranceAsync("user", "What time do you open tomorrow?", 1);
        await session.SendUtteranceAsync("replica", "We open at eight in the morning.", 2);
        await Expect(page.Locator(".caption.from-user")).ToContainTextAsync("What time do you open tomorrow?");
        await Expect(page.Locator(".caption.from-replica")).ToContainTextAsync("We open at eight in the morning.");
        await fx.ScreenshotAsync(page, "live-video-captions");

        Assert.DoesNotContain(console, m => m.Contains("platform", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(console, m => m.StartsWith("pageerror", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Before_join_the_page_shows_the_replica_and_joins_on_the_same_socket()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        var (context, page, console) = await OpenAsync(c.PageUrl);
        await using var _ = context;

        // Without a click: the socket opens with the page, asks for the picture alone, and the replica is drawn.
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(fx.Worker.Sessions(c.Id) is [{ Preview.Task.IsCompleted: true }]), Deadline, "the page's system.preview");
        var preview = fx.Worker.Sessions(c.Id)[0];
        await Expect(page.Locator("#video")).ToBeVisibleAsync();
        await Expect(page.Locator("#stage")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("has-video"));
        Assert.True(await page.EvaluateAsync<bool>("() => performance.getEntriesByName('first-frame').length === 1 && performance.getEntriesByName('join').length === 0"),
            "the first frame is drawn before Join");
        await ExpectStateAsync(page, "prejoin");
        await Expect(page.Locator("#notice-action")).ToHaveTextAsync("Join");
        await fx.ScreenshotAsync(page, "prejoin-preview");
        Assert.False(preview.Hello.Task.IsCompleted, "no hello before Join");
        Assert.Empty(preview.Microphone);

        // The preview's socket drops (a worker moving): the page asks again, quietly, still waiting for Join.
        preview.Abort();
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(fx.Worker.Sessions(c.Id) is [_, { Preview.Task.IsCompleted: true }]), Deadline, "a second preview");
        await ExpectStateAsync(page, "prejoin");

        // Join says hello on that socket: no new connection, and the call goes live.
        await page.ClickAsync("#notice-action");
        var session = await fx.Worker.SessionAsync(c.Id, index: 1);
        await ExpectStateAsync(page, "live");
        Assert.Equal(2, fx.Worker.Sessions(c.Id).Count);
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Playback.Count > 0), Deadline, "playback reports");
        Assert.DoesNotContain(console, m => m.StartsWith("pageerror", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Microphone_pcm_reaches_the_worker_and_mute_stops_it()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        var (context, page, session) = await JoinLiveAsync(c);
        await using var _c = context;

        // The fake microphone says a sentence: 16-bit PCM frames of 10 ms arrive, and they are not silence.
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Microphone.Count > 0 && session.Microphone.Max(f => f.Rms) > 0.02),
            Deadline, "microphone frames with speech in them (RMS > 0.02)");
        var frame = session.Microphone[0];
        Assert.Equal(1, frame.Channels);
        Assert.Equal(48000, frame.SampleRate);
        Assert.Equal(480, frame.Samples);

        await page.ClickAsync("#mute");
        await Expect(page.Locator("#mute")).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(page.Locator("#mute-label")).ToHaveTextAsync("Unmute");
        await fx.ScreenshotAsync(page, "muted");
        // Measured on the call's own clock: frames sent before the click may still be in flight for a moment.
        var clicked = session.Playback[^1];
        await PlaybackPassesAsync(session, clicked + 0.4);
        var whileMuted = session.Microphone.Count;
        await PlaybackPassesAsync(session, clicked + 1.4);
        Assert.Equal(whileMuted, session.Microphone.Count);

        await page.ClickAsync("#mute");
        await Expect(page.Locator("#mute")).ToHaveAttributeAsync("aria-pressed", "false");
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Microphone.Count > whileMuted + 10), Deadline, "microphone frames again after unmute");
    }

    private static Task PlaybackPassesAsync(FakeSession session, double mediaTime) =>
        PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Playback.Count > 0 && session.Playback[^1] >= mediaTime),
            Deadline, $"playback reaching {mediaTime:F2} s");

    /// <summary>Records every state the page goes through (in window.__states), however briefly it stays in one.</summary>
    private static Task RecordStates(IPage page) => page.AddInitScriptAsync("""
        window.__states = [];
        document.addEventListener('DOMContentLoaded', () => {
          window.__states.push(document.body.dataset.state);
          new MutationObserver(() => window.__states.push(document.body.dataset.state))
            .observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
        });
        """);

    [Fact]
    public async Task The_page_reconnects_by_itself_when_the_worker_drops_the_socket()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        var (context, page, _) = await OpenAsync(c.PageUrl, RecordStates);
        await using var _c = context;
        await JoinAsync(page);
        var first = await fx.Worker.SessionAsync(c.Id);
        await ExpectStateAsync(page, "live");
        await PlaybackPassesAsync(first, 0.5);

        first.Abort(); // the worker is killed
        var second = await fx.Worker.SessionAsync(c.Id, 1);
        await ExpectStateAsync(page, "live");
        var states = await page.EvaluateAsync<string[]>("() => window.__states");
        Assert.Contains("reconnecting", states);
        Assert.Equal("live", states[^1]);

        // The resumed stream continues the timeline; the page plays it, shows its keyframe-first video and reports it.
        Assert.True(second.StartUs >= first.NextAudioUs - 1, "the second connection continues the media timeline");
        await PlaybackPassesAsync(second, second.StartUs / 1e6 + 0.5);
        await PlatformCluster.WaitUntilAsync(async () =>
            double.TryParse(await page.Locator("#video").GetAttributeAsync("data-media-time"), System.Globalization.CultureInfo.InvariantCulture, out var shown) && shown >= second.StartUs / 1e6,
            Deadline, "a frame of the new connection drawn");
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(second.Microphone.Count > 0), Deadline, "microphone audio on the new connection");
    }

    [Fact]
    public async Task The_worker_ending_the_call_shows_the_ended_state_with_its_reason()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        var (context, page, session) = await JoinLiveAsync(c);
        await using var _c = context;

        await session.EndAsync("max_call_duration");
        await ExpectStateAsync(page, "ended");
        await Expect(page.Locator("#notice-title")).ToHaveTextAsync("The call has ended");
        await Expect(page.Locator("#notice-text")).ToHaveTextAsync("The call reached its time limit.");
        await Expect(page.Locator("#notice-action")).ToBeHiddenAsync();
        await fx.ScreenshotAsync(page, "ended");
        Assert.Single(fx.Worker.Sessions(c.Id)); // no reconnection after the end
    }

    [Fact]
    public async Task An_ended_conversation_opens_on_its_ended_state()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        await BrowserFixture.Ok(await t.Http.PostAsync($"/v2/conversations/{c.Id}/end", null));
        var (context, page, _) = await OpenAsync(c.PageUrl);
        await using var _c = context;
        await ExpectStateAsync(page, "ended");
        await Expect(page.Locator("#notice-text")).ToHaveTextAsync("The call was ended by its host.");
        await Expect(page.Locator("#notice-action")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task A_bad_link_shows_the_neutral_not_valid_page()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        await using var context = await fx.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1024, Height = 700 } });
        var page = await context.NewPageAsync();
        var response = await page.GotoAsync(c.PageUrl.ToString()[..^4] + "zzzz");
        Assert.Equal(404, response!.Status);
        await ExpectStateAsync(page, "bad-link");
        await Expect(page.Locator("h1")).ToHaveTextAsync("This link is not valid");
        await Expect(page.Locator(".brand")).ToHaveCountAsync(0);
        await fx.ScreenshotAsync(page, "bad-link");
    }

    [Fact]
    public async Task Leave_closes_the_socket_and_says_you_left()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        var (context, page, session) = await JoinLiveAsync(c);
        await using var _c = context;

        await page.ClickAsync("#leave");
        await ExpectStateAsync(page, "left");
        await Expect(page.Locator("#notice-title")).ToHaveTextAsync("You left the call");
        var status = await session.Closed.Task.WaitAsync(Deadline);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, status);
        await fx.ScreenshotAsync(page, "left");
        Assert.Single(fx.Worker.Sessions(c.Id));
    }

    [Fact]
    public async Task Audio_only_calls_show_a_tile_and_ask_for_no_video()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(new { audio_only = true });
        var (context, page, _) = await OpenAsync(c.PageUrl);
        await using var _c = context;
        await Expect(page.Locator("#video")).ToHaveCountAsync(0);
        await JoinAsync(page);
        var session = await fx.Worker.SessionAsync(c.Id);
        Assert.True((await session.Hello.Task)["properties"]!["audio_only"]!.GetValue<bool>());
        await ExpectStateAsync(page, "live");
        await Expect(page.Locator("#tile .avatar")).ToBeVisibleAsync();
        await PlaybackPassesAsync(session, 0.5);
        // Captions are off for this conversation: the utterance (sent first) shows nothing.
        await session.SendUtteranceAsync("replica", "Hello there.", 1);
        await session.SendEventAsync("conversation.replica.started_speaking", [], 2);
        await Expect(page.Locator("#stage")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("speaking"));
        await Expect(page.Locator(".caption")).ToHaveCountAsync(0);
        await fx.ScreenshotAsync(page, "audio-only");
    }

    [Fact]
    public async Task A_device_at_44_1_kHz_resamples_playback_and_sends_its_own_rate_up()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(new { audio_only = true });
        var (context, page, console) = await OpenAsync(c.PageUrl, p => p.AddInitScriptAsync("""
            const Native = window.AudioContext;
            window.AudioContext = class extends Native { constructor(o) { super({ ...(o || {}), sampleRate: 44100 }); } };
            """));
        await using var _c = context;
        await JoinAsync(page);
        var session = await fx.Worker.SessionAsync(c.Id);
        Assert.Equal(44100, (await session.Hello.Task)["properties"]!["sample_rate"]!.GetValue<int>());
        await ExpectStateAsync(page, "live");
        await PlaybackPassesAsync(session, 1.0);
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Microphone.Count > 0), Deadline, "microphone frames");
        Assert.Equal(44100, session.Microphone[0].SampleRate);
        Assert.Equal(441, session.Microphone[0].Samples); // 10 ms
        Assert.DoesNotContain(console, m => m.StartsWith("pageerror", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_denied_microphone_and_an_unsupported_browser_get_their_own_states()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        var (context, page, _) = await OpenAsync(c.PageUrl, p => p.AddInitScriptAsync(
            "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));"));
        await using var _c = context;
        await JoinAsync(page);
        await ExpectStateAsync(page, "mic-denied");
        await Expect(page.Locator("#notice-title")).ToHaveTextAsync("Microphone blocked");
        await Expect(page.Locator("#notice-action")).ToHaveTextAsync("Try again");
        await fx.ScreenshotAsync(page, "mic-denied");
        // The socket opened at Join (beside the prompt) never said hello, so nobody joined, and it was closed.
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(fx.Worker.Sessions(c.Id).All(s => s.Closed.Task.IsCompleted)), Deadline, "the socket closed");
        Assert.DoesNotContain(fx.Worker.Sessions(c.Id), s => s.Hello.Task.IsCompleted);

        var (context2, old, _) = await OpenAsync(c.PageUrl, p => p.AddInitScriptAsync("delete window.VideoDecoder;"));
        await using var _c2 = context2;
        await ExpectStateAsync(old, "unsupported");
        await Expect(old.Locator("#notice-title")).ToHaveTextAsync("This browser cannot join the call");
        await Expect(old.Locator("#notice-action")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task Flush_drops_the_queued_audio_after_the_given_time()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(new { audio_only = true });
        fx.Worker.Script(c.Id, new SessionScript { AheadSeconds = 0 });
        var (context, page, session) = await JoinLiveAsync(c);
        await using var _c = context;

        await session.StreamUntilAsync(4_000_000); // four seconds queued at once
        await PlaybackPassesAsync(session, 0.3);
        await session.SendSystemAsync("system.flush", new JsonObject { ["after"] = 1.5 }); // interrupted at 1.5 s
        // After the flush the page has nothing to play until the replica speaks again at 4 s.
        session.SkipTo(4_000_000);
        await session.StreamUntilAsync(5_000_000);
        await PlaybackPassesAsync(session, 4.3);
        var reports = session.Playback;
        Assert.DoesNotContain(reports, r => r > 1.55 && r < 4.0);
        Assert.Contains(reports, r => r > 1.0 && r <= 1.55); // it did play up to the cut
    }

    [Fact]
    public async Task A_broken_video_frame_makes_the_page_ask_for_a_keyframe_and_the_picture_recovers()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        var (context, page, session) = await JoinLiveAsync(c);
        await using var _c = context;
        await Expect(page.Locator("#video")).ToBeVisibleAsync();
        Assert.Equal(0, session.KeyframeRequests);

        var garbage = new byte[600];
        new Random(7).NextBytes(garbage);
        await session.SendAsync(FakeSession.VideoMessage(new Vp8Frame(true, garbage), session.NextAudioUs), System.Net.WebSockets.WebSocketMessageType.Binary);
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.KeyframeRequests > 0), Deadline, "a system.keyframe_request after a decoder error");
        var broken = session.NextAudioUs / 1e6;
        await PlatformCluster.WaitUntilAsync(async () =>
            double.TryParse(await page.Locator("#video").GetAttributeAsync("data-media-time"), System.Globalization.CultureInfo.InvariantCulture, out var shown) && shown > broken,
            Deadline, "frames drawn again after the keyframe");
    }

    [Fact]
    public async Task A_private_call_asks_for_its_access_code_and_passes_it_to_the_media_socket()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(new { require_auth = true });
        Assert.NotNull(c.MeetingToken);
        var (context, page, _) = await OpenAsync(c.PageUrl);
        await using var _c = context;
        await ExpectStateAsync(page, "auth");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Enter your access code");
        await fx.ScreenshotAsync(page, "access-code");

        await page.FillAsync("input[name=t]", "mt_wrong");
        await page.ClickAsync("button[type=submit]");
        await Expect(page.Locator(".error")).ToContainTextAsync("not valid");

        await page.FillAsync("input[name=t]", c.MeetingToken!);
        await page.ClickAsync("button[type=submit]");
        await JoinAsync(page);
        await fx.Worker.SessionAsync(c.Id);
        await ExpectStateAsync(page, "live");
    }

    [Fact]
    public async Task An_allowed_embedding_site_gets_the_events_and_can_send_messages_in()
    {
        using var t = await fx.NewTenantAsync("Contoso Clinic", [fx.Embedder.Origin]);
        var c = await t.ConversationAsync(new { properties = new { enable_closed_captions = true } });
        await using var context = await fx.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 960, Height = 700 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(fx.Embedder.EmbedUrl(c.PageUrl));
        var call = page.FrameLocator("#call");
        await Expect(call.Locator("body")).ToHaveAttributeAsync("data-state", "prejoin");
        // Sent before the call is live: held by the page and delivered once it is.
        await page.EvaluateAsync("() => sendToCall({ message_type: 'conversation', event_type: 'conversation.overwrite_llm_context', properties: { context: 'The visitor is a returning patient.' } })");
        await call.Locator("#notice-action").ClickAsync();
        var session = await fx.Worker.SessionAsync(c.Id);
        await Expect(call.Locator("body")).ToHaveAttributeAsync("data-state", "live");
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Received.Any(m =>
                m["event_type"]?.GetValue<string>() == "conversation.overwrite_llm_context"
                && m["properties"]?["context"]?.GetValue<string>() == "The visitor is a returning patient.")),
            Deadline, "the context sent before joining reaching the worker");

        // A tool call goes out to the embedding app, and its result comes back in.
        await session.SendEventAsync("conversation.tool_call", new JsonObject { ["tool_call_id"] = "call_1", ["name"] = "lookup_hours", ["arguments"] = "{}" }, 4);
        await PlatformCluster.WaitUntilAsync(() => page.EvaluateAsync<bool>("() => window.received.some(m => m.data.event_type === 'conversation.tool_call' && m.data.properties.tool_call_id === 'call_1')"),
            Deadline, "the embedding page receiving conversation.tool_call");
        await page.EvaluateAsync("() => sendToCall({ message_type: 'conversation', event_type: 'conversation.tool_result', properties: { tool_call_id: 'call_1', content: 'Open 8 to 18.' } })");
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Received.Any(m =>
                m["event_type"]?.GetValue<string>() == "conversation.tool_result" && m["properties"]?["content"]?.GetValue<string>() == "Open 8 to 18.")),
            Deadline, "conversation.tool_result reaching the worker");

        await session.SendUtteranceAsync("replica", "Welcome to the clinic.", 5);
        await Expect(call.Locator(".caption.from-replica")).ToContainTextAsync("Welcome to the clinic.");
        var apiOrigin = fx.ApiBase.GetLeftPart(UriPartial.Authority);
        await PlatformCluster.WaitUntilAsync(async () => await page.EvaluateAsync<bool>(
            "(o) => window.received.some(m => m.origin === o && m.data.event_type === 'conversation.utterance' && m.data.properties.speech === 'Welcome to the clinic.' && m.data.seq === 5)", apiOrigin),
            Deadline, "the embedding page receiving conversation.utterance");
        Assert.True(await page.EvaluateAsync<bool>("(o) => window.received.some(m => m.origin === o && m.data.event_type === 'system.state' && m.data.properties.state === 'live')", apiOrigin));

        await page.EvaluateAsync("() => sendToCall({ message_type: 'conversation', event_type: 'conversation.respond', properties: { text: 'What are your opening hours?' } })");
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Received.Any(m =>
                m["event_type"]?.GetValue<string>() == "conversation.respond" && m["conversation_id"]?.GetValue<string>() == c.Id
                && m["properties"]?["text"]?.GetValue<string>() == "What are your opening hours?")),
            Deadline, "conversation.respond from the embedding page reaching the worker");
        // Not conversation.*: ignored by the page.
        await page.EvaluateAsync("() => sendToCall({ message_type: 'system', event_type: 'system.ended', properties: {} })");
        await session.SendUtteranceAsync("replica", "Still here.", 6);
        await Expect(call.Locator(".caption.from-replica").Last).ToContainTextAsync("Still here.");
        Assert.DoesNotContain(session.Received, m => m["event_type"]?.GetValue<string>() == "system.ended");
        await fx.ScreenshotAsync(page, "embedded");
    }

    [Fact]
    public async Task A_site_that_is_not_allowed_cannot_frame_the_page()
    {
        using var t = await fx.NewTenantAsync("Fabrikam");
        var c = await t.ConversationAsync();
        await using var context = await fx.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(fx.Embedder.EmbedUrl(c.PageUrl), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        var frame = page.Frames.Single(f => f != page.MainFrame);
        var state = await frame.EvaluateAsync<string?>("() => document.body ? (document.body.dataset.state ?? null) : null");
        Assert.Null(state);
        Assert.DoesNotContain("/c/", frame.Url, StringComparison.Ordinal);
    }

    private static Task<string> PixelAsync(IPage page) => page.EvaluateAsync<string>(
        "() => { const c = document.getElementById('video'); const d = c.getContext('2d').getImageData(c.width / 2, c.height / 4, 1, 1).data; return d.join(','); }");
}
