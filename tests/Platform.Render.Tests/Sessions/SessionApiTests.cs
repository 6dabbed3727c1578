using Platform.Render.Sessions;
using Platform.Render.Thinking;
using Platform.Testing.OpenAi;
using Xunit.Abstractions;
using T = Platform.Render.Sessions.SessionEventTypes;

namespace Platform.Render.Tests.Sessions;

/// <summary>The calls the worker makes for the in-call interactions protocol (respond, interrupt, context, playback, failover).</summary>
[Collection(SessionCollection.Name)]
public sealed class SessionApiTests(SessionFixture fixture, ITestOutputHelper output)
{
    private const string LongAnswer = "There are many things to consider when you plan a long journey across the whole country by train and bus. "
        + "First you should look at the timetable carefully. Then you should book your seats early. Finally you should pack light.";

    private static LlmSettings Llm(OpenAiChatServer server, string? context = null) =>
        new("test-model", BaseUrl: server.BaseUrl.ToString(), ApiKey: "sk-test", SystemPrompt: "You are Anna.", ConversationalContext: context);

    private static SessionOptions Audio(long previousSeq = 0, int previousTurnIdx = -1, IReadOnlyList<PriorMessage>? history = null) => new()
    {
        AudioOnly = true,
        PreviousSeq = previousSeq,
        PreviousTurnIdx = previousTurnIdx,
        History = history ?? [],
    };

    [Fact]
    public async Task Respond_speaks_an_answer_to_the_text_as_a_user_turn_and_context_changes_reach_the_next_request()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = r => ChatScript.Reply("You asked: " + r.LastContent("user"));
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, Audio(), sink, Llm(server, "The user is in Paris."), SessionDriver.FastLlm());
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);

        session.SetContext("The user is in Rome.", append: false);
        await session.RespondAsync("Where am I?");
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromMinutes(5), "the answer to respond");
        session.SetContext("They like trains.", append: true);
        await session.RespondAsync("What do I like?");
        await driver.SilenceUntilAsync(() => sink.Events.Count(e => e.Type == T.ReplicaStoppedSpeaking) >= 2, TimeSpan.FromMinutes(5), "the second answer");
        session.SetContext(null, append: false);
        await session.RespondAsync("Anything else?");
        await driver.SilenceUntilAsync(() => sink.Events.Count(e => e.Type == T.ReplicaStoppedSpeaking) >= 3, TimeSpan.FromMinutes(5), "the third answer");
        await session.CompleteAsync();

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        var utterances = events.Where(e => e.Type == T.Utterance).Select(e => (e.Role, e.Text)).ToList();
        Assert.Equal(
            [("user", "Where am I?"), ("replica", "You asked: Where am I?"), ("user", "What do I like?"), ("replica", "You asked: What do I like?"), ("user", "Anything else?"), ("replica", "You asked: Anything else?")],
            utterances.Select(u => (u.Role, u.Text)));
        var firstUser = events.First(e => e.Type == T.Utterance);
        var firstStart = events.First(e => e.Type == T.ReplicaStartedSpeaking);
        Assert.True(firstStart.TurnIdx > firstUser.TurnIdx);
        Assert.Null(firstUser.InferenceId);

        string? System(int i) => ChatRequest.ContentText(server.Requests[i].Messages[0]!["content"]);
        Assert.Equal("You are Anna.\n\nThe user is in Rome.", System(0));
        Assert.Equal("You are Anna.\n\nThe user is in Rome.\nThey like trains.", System(1));
        Assert.Equal("You are Anna.", System(2));

        // The second request carries the first exchange as history.
        var second = server.Requests[1].Messages.Select(m => (m!["role"]!.GetValue<string>(), ChatRequest.ContentText(m["content"]))).ToList();
        Assert.Equal([("user", "Where am I?"), ("assistant", "You asked: Where am I?"), ("user", "What do I like?")], second.Skip(1));
        Assert.Empty(session.Metrics); // app turns have no user speech to measure from
    }

    [Fact]
    public async Task A_session_seeded_with_history_after_a_failover_sends_it_in_the_first_request_and_continues_seq_and_turns()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply("Platform two.");
        var sink = new CollectingSink();
        PriorMessage[] before = [new("user", "I need a train to Lyon."), new("replica", "The next one leaves at noon."), new("user", "Thanks."), new("assistant", "You are welcome.")];
        await using var session = new ConversationSession(fixture.Resources, Audio(previousSeq: 41, previousTurnIdx: 7, history: before), sink, Llm(server), SessionDriver.FastLlm());
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);
        await session.RespondAsync("Which platform?");
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromMinutes(5), "the answer");
        await session.CompleteAsync();

        var request = await server.WaitForRequestAsync(0, TimeSpan.FromSeconds(5));
        var body = request.BodyText;
        output.WriteLine(body);
        var messages = request.Messages.Select(m => (m!["role"]!.GetValue<string>(), ChatRequest.ContentText(m["content"]))).ToList();
        Assert.Equal(
            [("system", "You are Anna."), ("user", "I need a train to Lyon."), ("assistant", "The next one leaves at noon."), ("user", "Thanks."), ("assistant", "You are welcome."), ("user", "Which platform?")],
            messages);

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        Assert.Equal(Enumerable.Range(42, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
        Assert.All(events, e => Assert.True(e.TurnIdx > 7, $"{e.Type} has turn {e.TurnIdx}"));
    }

    [Fact]
    public async Task Interrupt_stops_the_replica_flushes_queued_output_and_keeps_only_what_the_page_played()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply(LongAnswer).StallAfter(30);
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, Audio(), sink, Llm(server), SessionDriver.FastLlm());
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);
        var lag = TimeSpan.FromMilliseconds(600);

        // Twice the same answer cut at the same point after it started: first with a page that plays what it gets
        // at once (no reports), then with a page that reports playing 600 ms behind what was sent.
        var results = new List<(SessionEvent Interrupted, SessionEvent Flush, SessionEvent Started)>();
        foreach (var reports in new[] { false, true })
        {
            await session.RespondAsync("Tell me about trains.");
            var count = results.Count;
            await driver.SilenceUntilAsync(() => sink.Events.Count(e => e.Type == T.ReplicaStartedSpeaking) > count, TimeSpan.FromMinutes(5), "the replica starting");
            var started = sink.Events.Last(e => e.Type == T.ReplicaStartedSpeaking);
            while (driver.Pushed < started.At + TimeSpan.FromSeconds(2.5))
            {
                await driver.SilenceAsync(TimeSpan.FromMilliseconds(100));
                if (reports)
                {
                    session.ReportPlaybackPosition(driver.Pushed - lag);
                }
            }

            await session.InterruptAsync();
            await driver.SilenceUntilAsync(() => sink.Events.Count(e => e.Type == T.ReplicaInterrupted) > count, TimeSpan.FromSeconds(5), "the interruption");
            results.Add((sink.Events.Last(e => e.Type == T.ReplicaInterrupted), sink.Events.Last(e => e.Type == T.Flush), started));
        }

        await driver.SilenceAsync(TimeSpan.FromMilliseconds(200));
        await session.CompleteAsync();
        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));

        foreach (var (interrupted, flush, started) in results)
        {
            Assert.Equal(0, flush.Seq);
            Assert.Equal(interrupted.InferenceId, flush.InferenceId);
            Assert.True(flush.At <= interrupted.At);
            Assert.Equal(flush.At - started.At, interrupted.Duration);
            Assert.StartsWith(interrupted.Text!, LongAnswer);
            Assert.Contains(events, e => e.Type == T.Utterance && e.Role == "replica" && e.InferenceId == interrupted.InferenceId && e.Text == interrupted.Text);
            var stopped = Assert.Single(events, e => e.Type == T.ReplicaStoppedSpeaking && e.InferenceId == interrupted.InferenceId);
            Assert.Equal(interrupted.Duration, stopped.Duration);

            // No replica voice after the cut until the next answer.
            var next = events.FirstOrDefault(e => e.Type == T.ReplicaStartedSpeaking && e.Seq > interrupted.Seq)?.At ?? TimeSpan.MaxValue;
            Assert.DoesNotContain(sink.LoudAt(), t => t > interrupted.At + TimeSpan.FromMilliseconds(20) && t < next);
        }

        var (plain, plainFlush, plainStart) = results[0];
        var (lagged, laggedFlush, laggedStart) = results[1];
        Assert.Equal(plain.At, plainFlush.At); // no reports: what was sent was heard
        var expected = lagged.At - lag;
        Assert.InRange(laggedFlush.At, expected - TimeSpan.FromMilliseconds(20), expected + TimeSpan.FromMilliseconds(20));
        output.WriteLine($"heard without reports ({(plain.At - plainStart.At).TotalMilliseconds:F0} ms): '{plain.Text}'; 600 ms behind ({lagged.Duration!.Value.TotalMilliseconds:F0} ms): '{lagged.Text}'");
        Assert.True(Words(lagged.Text) < Words(plain.Text), "the lagging page heard fewer words");
        Assert.True(Words(lagged.Text) > 0);

        // History keeps what each page heard.
        var history = session.Conversation!.History.Snapshot();
        Assert.Contains(history, m => m.InferenceId == lagged.InferenceId && m.Role == ChatRole.Assistant && m.Content == lagged.Text);
        Assert.Contains(history, m => m.InferenceId == plain.InferenceId && m.Role == ChatRole.Assistant && m.Content == plain.Text);
    }

    [Fact]
    public async Task Interrupt_when_silent_and_respond_without_text_or_llm_do_not_break_the_session()
    {
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, new SessionOptions { Mode = SessionMode.Echo, AudioOnly = true }, sink);
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);
        await session.InterruptAsync();
        await session.RespondAsync("");
        await session.RespondAsync("Hello?");
        session.SetContext("ignored", append: true);
        session.ReportPlaybackPosition(TimeSpan.FromSeconds(-1));
        await session.SayAsync("Still here.");
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromMinutes(5), "the echo");
        await session.CompleteAsync();

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        Assert.Equal(["respond.empty", "respond.unavailable"], events.Where(e => e.Type == T.Error).Select(e => e.ErrorCode));
        Assert.DoesNotContain(events, e => e.Type is T.ReplicaInterrupted or T.Flush);
        Assert.Equal("Still here.", events.Single(e => e.Type == T.Utterance).Text);

        // After the end, the calls are ignored rather than thrown at the caller.
        await session.InterruptAsync();
        await session.RespondAsync("Anyone?");
        session.ReportPlaybackPosition(TimeSpan.FromSeconds(1));
    }

    private static int Words(string? text) => text?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length ?? 0;
}
