using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Render.Worker.Media;
using Platform.Testing;
using Platform.Testing.OpenAi;

namespace Platform.Render.Worker.Tests.Media;

/// <summary>The embedded transport end to end on a real cluster and engine: a page's socket on the worker, the
/// greeting, a spoken turn answered by the LLM, events recorded as the transcript, the interactions protocol.
/// Failover with history is tested end to end in Chromium (Platform.Browser.Tests/LiveCallTests).</summary>
public sealed class LiveSessionTests
{
    private static string Type(JsonObject m) => m["event_type"]!.GetValue<string>();

    [Fact]
    public async Task A_page_hears_the_greeting_talks_and_gets_an_answer_and_the_conversation_records_the_transcript()
    {
        await using var kit = await MediaTestKit.StartAsync();
        kit.Llm.Responder = _ => ChatScript.Reply("The weather is sunny today.");
        var worker = await kit.StartWorkerAsync("w1");
        var conversation = await kit.ConversationAsync("Hello, I am here.");
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600)); // a heartbeat or two: the worker starts the session
        var session = Assert.Single(worker.Sessions);
        Assert.Equal(conversation, session.Conversation);

        await using var page = await MediaClient.ConnectAsync(worker.Url, conversation);
        await page.WaitForAsync(p => p.Events("system.ready").Any(), "system.ready");
        var ready = page.Events("system.ready").Single()["properties"]!;
        Assert.False(ready["resumed"]!.GetValue<bool>());
        Assert.Equal(320, ready["width"]!.GetValue<int>());

        // The greeting is spoken once the page is there.
        await kit.AdvanceAsync(TimeSpan.FromSeconds(3));
        await page.WaitForAsync(p => p.Events("conversation.utterance").Any(), "the greeting's utterance");
        var greeting = page.Events("conversation.utterance").First();
        Assert.Equal("replica", greeting["properties"]!["role"]!.GetValue<string>());
        Assert.Equal("Hello, I am here.", greeting["properties"]!["speech"]!.GetValue<string>());
        Assert.True(page.AudioFrames > 100, $"audio frames: {page.AudioFrames}");
        Assert.True(page.AudioEnergy > 0, "the greeting's audio is not silent");

        // The user speaks (in 20 ms packets, one per tick), then is silent.
        var speech = MediaTestKit.Speech("what is the weather like today");
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(20 * (speech.Length / 320 + 1)) + TimeSpan.FromSeconds(4), async i =>
        {
            if (i * 320 < speech.Length)
            {
                await page.SendMicrophoneAsync(speech.AsSpan(i * 320, Math.Min(320, speech.Length - i * 320)));
            }
        });
        await page.WaitForAsync(p => p.Events("conversation.utterance").Count() >= 3, "the user's utterance and the answer");
        var utterances = page.Events("conversation.utterance").Select(u => (Role: u["properties"]!["role"]!.GetValue<string>(), Text: u["properties"]!["speech"]!.GetValue<string>())).ToList();
        Assert.Equal("user", utterances[1].Role);
        Assert.Contains("today", utterances[1].Text, StringComparison.OrdinalIgnoreCase); // PocketSphinx's words; the rest may vary
        Assert.Equal(("replica", "The weather is sunny today."), utterances[2]);
        Assert.NotEmpty(page.Events("conversation.user.started_speaking"));

        // seq is strictly increasing over every conversation.* message, each carries turn_idx and a timestamp.
        var seqs = page.Messages.Where(m => m["message_type"]!.GetValue<string>() == "conversation").Select(m => m["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.OrderBy(s => s).Distinct(), seqs);

        // The LLM got the persona's system prompt, the greeting and the user's words, with the tenant's key.
        var request = kit.Llm.Requests.Last();
        Assert.Equal("Bearer sk-tenant-secret", request.Headers["authorization"]);
        var sent = request.Messages.Select(m => m!["content"]?.ToString() ?? "").ToList();
        Assert.Contains(sent, s => s.Contains("You are a test.", StringComparison.Ordinal));
        Assert.Contains(utterances[1].Text, sent);

        // The grain recorded the events: the verbose transcript has all three lines, and the turn's latency.
        var grain = kit.Grains.GetGrain<IConversationGrain>(conversation.ToGrainKey());
        await PlatformCluster.WaitUntilAsync(async () => (await grain.GetAsync(true))!.Transcript!.Count >= 3, MediaTestKit.Wait, "the transcript");
        var info = (await grain.GetAsync(true))!;
        Assert.Equal(["replica", "user", "replica"], info.Transcript!.Take(3).Select(t => t.Role));
        await PlatformCluster.WaitUntilAsync(async () => (await grain.GetAsync(true))!.Events!.Any(e => e.EventType == InCallEventTypes.TurnMetrics), MediaTestKit.Wait, "turn metrics");
        var metrics = JsonNode.Parse((await grain.GetAsync(true))!.Events!.First(e => e.EventType == InCallEventTypes.TurnMetrics).PropertiesJson)!;
        Assert.True(metrics["first_audio_ms"]!.GetValue<double>() > 0);
        Assert.Contains(info.Events!, e => e.EventType == "system.participant_joined");
    }

    [Fact]
    public async Task A_preview_gets_the_picture_alone_and_is_not_in_the_call_until_its_hello()
    {
        Assert.True(Render.Video.Vp8Encoder.IsAvailable(out var why), why);
        await using var kit = await MediaTestKit.StartAsync();
        var worker = await kit.StartWorkerAsync("w1", encoders: VideoEncoders.Vp8);
        var conversation = await kit.ConversationAsync("Hello, I am here.");
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        var grain = kit.Grains.GetGrain<IConversationGrain>(conversation.ToGrainKey());

        // Before the person presses Join the page opens its socket and asks for the picture.
        await using var page = await MediaClient.ConnectAsync(worker.Url, conversation, hello: false);
        await page.SendJsonAsync("system", "system.preview", []);
        await kit.AdvanceAsync(TimeSpan.FromSeconds(3));
        await page.WaitForAsync(p => p.VideoFrames >= 5, "preview video frames");
        Assert.True(page.FirstVideoKey, "the preview starts with a keyframe");
        // The picture alone: no audio, no events, no system.ready; not present, so the greeting waits for hello.
        Assert.Equal(0, page.AudioFrames);
        Assert.Empty(page.Messages);
        Assert.DoesNotContain((await grain.GetAsync(true))!.Events!, e => e.EventType == "system.participant_joined");

        // Other messages wait for hello; a keyframe request is allowed (the page's decoder failed).
        var keyframes = page.Keyframes;
        await page.SendJsonAsync("conversation", "conversation.respond", new JsonObject { ["text"] = "Hi?" });
        await page.SendJsonAsync("system", "system.keyframe_request", []);
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(400));
        await page.WaitForAsync(p => p.Events("system.error").Any() && p.Keyframes > keyframes, "the order error and a keyframe");
        Assert.Equal("message.order", Assert.Single(page.Events("system.error"))["properties"]!["code"]!.GetValue<string>());

        // Join: hello on the same socket puts the person in the call: ready, present, greeted (now, not at the
        // preview), with audio.
        var joinedAt = Assert.Single(worker.Sessions).Session.Clock;
        await page.HelloAsync();
        await kit.AdvanceAsync(TimeSpan.FromSeconds(3));
        await page.WaitForAsync(p => p.Events("system.ready").Any() && p.Events("conversation.utterance").Any(), "system.ready and the greeting");
        Assert.True(page.Events("system.ready").Single()["properties"]!["video"]!.GetValue<bool>());
        var greeting = Assert.Single(page.Events("conversation.utterance"));
        Assert.Equal("Hello, I am here.", greeting["properties"]!["speech"]!.GetValue<string>());
        Assert.True(greeting["media_time"]!.GetValue<double>() >= joinedAt.TotalSeconds, $"greeted at {greeting["media_time"]} s, joined at {joinedAt.TotalSeconds} s");
        Assert.True(page.AudioFrames > 100, $"audio frames: {page.AudioFrames}");
        await PlatformCluster.WaitUntilAsync(async () => (await grain.GetAsync(true))!.Events!.Any(e => e.EventType == "system.participant_joined"),
            MediaTestKit.Wait, "the participant's presence");
    }

    [Fact]
    public async Task A_preview_that_closes_leaves_no_presence_and_the_session_goes_on()
    {
        await using var kit = await MediaTestKit.StartAsync();
        kit.Llm.Responder = _ => ChatScript.Reply("Fine.");
        var worker = await kit.StartWorkerAsync("w1", encoders: VideoEncoders.Vp8);
        var conversation = await kit.ConversationAsync(greeting: "Welcome.");
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        var session = Assert.Single(worker.Sessions);

        var preview = await MediaClient.ConnectAsync(worker.Url, conversation, hello: false);
        await preview.SendJsonAsync("system", "system.preview", []);
        await kit.AdvanceAsync(TimeSpan.FromSeconds(1));
        await preview.WaitForAsync(p => p.VideoFrames > 0, "preview video");
        await preview.DisposeAsync();
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Clients == 0), MediaTestKit.Wait, "the preview gone from the session");

        // The person joins from another page: that page is the one heard and greeted.
        await using var page = await MediaClient.ConnectAsync(worker.Url, conversation);
        await kit.AdvanceAsync(TimeSpan.FromSeconds(2));
        await page.WaitForAsync(p => p.Events("conversation.utterance").Any(), "the greeting");
        var grain = kit.Grains.GetGrain<IConversationGrain>(conversation.ToGrainKey());
        await PlatformCluster.WaitUntilAsync(async () => (await grain.GetAsync(true))!.Events!.Any(e => e.EventType == "system.participant_joined"),
            MediaTestKit.Wait, "the participant's presence");
        var presence = (await grain.GetAsync(true))!.Events!.Where(e => e.EventType.StartsWith("system.participant_", StringComparison.Ordinal)).ToList();
        Assert.Equal(["system.participant_joined"], presence.Select(e => e.EventType)); // the preview neither joined nor left
        Assert.Equal(1, session.Clients);
    }

    [Fact]
    public async Task Bad_messages_get_errors_and_the_session_goes_on()
    {
        await using var kit = await MediaTestKit.StartAsync();
        var worker = await kit.StartWorkerAsync("w1");
        var conversation = await kit.ConversationAsync(greeting: null);
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        await using var page = await MediaClient.ConnectAsync(worker.Url, conversation);
        await page.SendTextAsync("{not json");
        await page.SendTextAsync("""{"message_type":"conversation","event_type":"conversation.dance","properties":{}}""");
        await page.SendTextAsync("""{"message_type":"conversation","event_type":"conversation.echo","properties":{}}""");
        await page.SendMicrophoneAsync(new short[7], sampleRate: 12_345);
        await page.WaitForAsync(p => p.Events("system.error").Count() >= 4, "four errors");
        var codes = page.Events("system.error").Select(e => e["properties"]!["code"]!.GetValue<string>()).ToList();
        Assert.Equal(["message.malformed", "message.unknown", "message.invalid", "media.invalid"], codes);
        Assert.Contains("12345 Hz", page.Events("system.error").Last()["properties"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        // Still alive: an echo is spoken.
        await page.SendJsonAsync("conversation", "conversation.echo", new JsonObject { ["text"] = "Still here." });
        await kit.AdvanceAsync(TimeSpan.FromSeconds(2));
        await page.WaitForAsync(p => p.Events("conversation.utterance").Any(), "the echo");
        Assert.Equal("Still here.", page.Events("conversation.utterance").Single()["properties"]!["speech"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_apps_base64_audio_echo_is_spoken_and_a_message_over_the_limit_is_refused_on_a_socket_that_stays_open()
    {
        await using var kit = await MediaTestKit.StartAsync();
        var worker = await kit.StartWorkerAsync("w1");
        var conversation = await kit.ConversationAsync(greeting: null);
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        await using var page = await MediaClient.ConnectAsync(worker.Url, conversation);
        await page.WaitForAsync(p => p.Events("system.ready").Any(), "system.ready");

        // The app's own TTS, in two pieces of one utterance.
        var speech = MediaTestKit.Speech("this is the voice of my own application");
        var half = speech.Length / 2;
        string Base64(int from, int to) => Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(speech.AsSpan(from, to - from)));
        await page.SendJsonAsync("conversation", "conversation.echo", new JsonObject
        {
            ["modality"] = "audio", ["audio"] = Base64(0, half), ["sample_rate"] = 16_000, ["inference_id"] = "app-7",
        });
        await page.SendJsonAsync("conversation", "conversation.echo", new JsonObject
        {
            ["modality"] = "audio", ["audio"] = Base64(half, speech.Length), ["sample_rate"] = 16_000, ["inference_id"] = "app-7", ["done"] = true,
        });
        await kit.AdvanceAsync(TimeSpan.FromSeconds(speech.Length / 16_000.0 + 1));
        await page.WaitForAsync(p => p.Events("conversation.replica.stopped_speaking").Any(), "the echo played out");
        var started = page.Events("conversation.replica.started_speaking").Single();
        var stopped = page.Events("conversation.replica.stopped_speaking").Single();
        Assert.Equal("app-7", started["inference_id"]!.GetValue<string>());
        Assert.Equal("app-7", stopped["inference_id"]!.GetValue<string>());
        var duration = stopped["properties"]!["duration"]!.GetValue<double>();
        Assert.InRange(duration, speech.Length / 16_000.0 - 0.03, speech.Length / 16_000.0 + 0.05); // both pieces, back to back
        Assert.True(page.AudioEnergy > 0, "the echo's audio is not silent");
        Assert.Empty(page.Events("system.error"));

        // Too large for one message: an error naming the limit, and the socket still carries the next message.
        var huge = new string('a', InCallMessages.MaxTextBytes + 10);
        await page.SendTextAsync($$$"""{"event_type":"conversation.echo","properties":{"text":"{{{huge}}}"}}""");
        await page.SendJsonAsync("conversation", "conversation.echo", new JsonObject { ["text"] = "Still here." });
        await kit.AdvanceAsync(TimeSpan.FromSeconds(2));
        await page.WaitForAsync(p => p.Events("conversation.utterance").Any(), "the text echo after the refused message");
        Assert.Equal("message.too_large", page.Events("system.error").Single()["properties"]!["code"]!.GetValue<string>());
        Assert.Equal("Still here.", page.Events("conversation.utterance").Single()["properties"]!["speech"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_socket_without_the_media_key_or_for_another_conversation_is_refused()
    {
        await using var kit = await MediaTestKit.StartAsync();
        var worker = await kit.StartWorkerAsync("w1");
        var conversation = await kit.ConversationAsync();
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => MediaClient.ConnectAsync(worker.Url, conversation, key: "wrong"));
        var other = new ConversationId(conversation.Tenant, ConversationId.New(conversation.Tenant).Local);
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(() => MediaClient.ConnectAsync(worker.Url, other));
    }

    [Fact]
    public async Task The_interactions_protocol_responds_changes_context_and_interrupts()
    {
        await using var kit = await MediaTestKit.StartAsync();
        kit.Llm.Responder = _ => ChatScript.Reply("Our opening hours are from eight in the morning until six in the evening, every day of the week, including public holidays.");
        var worker = await kit.StartWorkerAsync("w1");
        var conversation = await kit.ConversationAsync(greeting: null);
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        await using var page = await MediaClient.ConnectAsync(worker.Url, conversation);
        await page.WaitForAsync(p => p.Events("system.ready").Any(), "system.ready");

        await page.SendJsonAsync("conversation", "conversation.append_llm_context", new JsonObject { ["context"] = "The caller is a premium member." });
        await page.SendJsonAsync("conversation", "conversation.respond", new JsonObject { ["text"] = "When are you open?" });
        await kit.AdvanceAsync(TimeSpan.FromSeconds(1.5));
        await page.WaitForAsync(p => p.Events("conversation.replica.started_speaking").Any(), "the replica answering");
        var request = kit.Llm.Requests.Last();
        Assert.Contains("The caller is a premium member.", request.Messages[0]!["content"]!.ToString(), StringComparison.Ordinal);
        Assert.Equal("When are you open?", request.Messages.Last()!["content"]!.ToString());
        Assert.Equal("When are you open?", page.Events("conversation.utterance").First()["properties"]!["speech"]!.GetValue<string>());

        // Mid-answer, the app interrupts: the replica stops, says what was heard, and the page is told to flush.
        await page.SendJsonAsync("system", "system.playback", new JsonObject { ["media_time"] = 0.5 });
        await page.SendJsonAsync("conversation", "conversation.interrupt", []);
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(400));
        await page.WaitForAsync(p => p.Events("conversation.replica_interrupted").Any() && p.Events("system.flush").Any(), "the interruption and the flush");
        var cut = page.Events("conversation.replica_interrupted").Single()["properties"]!;
        Assert.True(cut["duration"]!.GetValue<double>() < 5, cut.ToJsonString());
        Assert.DoesNotContain("public holidays", page.Events("conversation.utterance").Last()["properties"]!["speech"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
