using Platform.Render.Audio;
using Platform.Render.Perception;
using Platform.Render.Sessions;
using Platform.Render.Tests.Perception;
using Platform.Render.Tests.Speech;
using Platform.Render.Thinking;
using Platform.Testing.OpenAi;
using Xunit.Abstractions;
using T = Platform.Render.Sessions.SessionEventTypes;

namespace Platform.Render.Tests.Sessions;

[Collection(SessionCollection.Name)]
public sealed class ConversationSessionTests(SessionFixture fixture, ITestOutputHelper output)
{
    private const string Answer = "The station is two streets north of here. Walk past the park and turn left at the bakery.";

    private static LlmSettings Llm(OpenAiChatServer server) => new("test-model", BaseUrl: server.BaseUrl.ToString(), ApiKey: "sk-test");

    [Fact]
    public async Task A_full_turn_hears_the_user_answers_with_audio_and_a_moving_mouth_and_publishes_ordered_events()
    {
        TestSpeech.RequireSpeechStack();
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply(Answer);
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, SessionDriver.SmallVideo(), sink, Llm(server), SessionDriver.FastLlm());
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);

        var speech = TestSpeech.Say("What time does the next train leave?", "rms");
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(500));
        var speechStart = driver.Pushed;
        await driver.PushAsync(speech);
        var (_, end) = VadTests.EnergyBounds(speech);
        var trueEnd = speechStart + end;
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(20), "the replica's answer");
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(300));
        await session.CompleteAsync();

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
        string[] expected = [T.UserStartedSpeaking, T.UserStoppedSpeaking, T.Utterance, T.ReplicaStartedSpeaking, T.ReplicaStoppedSpeaking, T.Utterance];
        Assert.Equal(expected, events.Select(e => e.Type));
        var userUtterance = events[2];
        Assert.Equal("user", userUtterance.Role);
        Assert.False(string.IsNullOrWhiteSpace(userUtterance.Text));
        // The answer came from a request on the segment's final (an earlier speculation on a shorter hypothesis may
        // have been discarded).
        await server.WaitForRequestAsync(0, TimeSpan.FromSeconds(5));
        Assert.Contains(server.Requests, r => LastUserText(r) == userUtterance.Text);

        var started = events[3];
        var stopped = events[4];
        var replica = events[5];
        Assert.Equal("replica", replica.Role);
        Assert.Equal(Answer, replica.Text);
        Assert.NotNull(started.InferenceId);
        Assert.All(events.Skip(3), e => Assert.Equal(started.InferenceId, e.InferenceId));
        Assert.True(started.TurnIdx > userUtterance.TurnIdx, "the replica's turn follows the user's");
        Assert.True(stopped.Duration > TimeSpan.FromSeconds(3), $"spoke only {stopped.Duration}");
        Assert.Equal(stopped.At - started.At, stopped.Duration);
        Assert.True(events.Zip(events.Skip(1)).All(p => p.First.At <= p.Second.At), "event media times go forward");

        // Audio: silence before the replica starts, speech while it talks, 20 ms frames back to back.
        var audio = sink.Audio;
        Assert.Equal(Enumerable.Range(0, audio.Count).Select(i => TimeSpan.FromMilliseconds(20 * i)), audio.Select(a => a.At));
        var loud = sink.LoudAt().ToList();
        Assert.NotEmpty(loud);
        Assert.InRange(loud[0], started.At, started.At + TimeSpan.FromMilliseconds(300));
        Assert.InRange(loud[^1], stopped.At - TimeSpan.FromMilliseconds(500), stopped.At);

        // Video: 30 fps over the whole session, every frame differs from its neighbour while the replica talks.
        var video = sink.Video;
        Assert.All(video, v => Assert.Equal((128, 72), (v.Width, v.Height)));
        Assert.Equal(Enumerable.Range(0, video.Count).Select(i => TimeSpan.FromTicks(i * TimeSpan.TicksPerSecond / 30)), video.Select(v => v.At));
        Assert.True(video[^1].At >= stopped.At);
        var speaking = video.Where(v => v.At >= started.At && v.At < stopped.At).ToList();
        Assert.True(speaking.Zip(speaking.Skip(1)).Count(p => p.First.Hash != p.Second.Hash) >= speaking.Count - 2);

        var metrics = Assert.Single(session.Metrics);
        output.WriteLine(metrics.ToString());
        Assert.Equal(started.InferenceId, metrics.InferenceId);
        Assert.InRange(metrics.UserSpeechEnd, trueEnd - TimeSpan.FromMilliseconds(150), trueEnd + TimeSpan.FromMilliseconds(150));
        Assert.InRange(metrics.FloorDecision!.Value, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(600));
        Assert.NotNull(metrics.AsrFinal);
        Assert.True(metrics.AsrFinal <= metrics.FloorDecision);
        Assert.NotNull(metrics.LlmFirstToken);
        Assert.Equal(started.At - metrics.UserSpeechEnd, metrics.FirstClauseAudio);
        Assert.True(metrics.FirstMouthFrame >= metrics.FirstClauseAudio, $"{metrics}");
        Assert.True(metrics.FirstMouthFrame - metrics.FirstClauseAudio < TimeSpan.FromMilliseconds(400), $"{metrics}");
    }

    [Fact]
    public async Task Barge_in_stops_replica_audio_within_150_ms_of_user_onset_aborts_the_llm_and_keeps_only_what_was_spoken()
    {
        TestSpeech.RequireSpeechStack();
        const string longAnswer = "There are many things to consider when you plan a long journey across the whole country by train and bus. "
            + "First you should look at the timetable carefully. Then you should book your seats early. Finally you should pack light.";
        await using var server = await OpenAiChatServer.StartAsync();
        // The question gets the long answer (a discarded speculation on it too), the interruption the short one.
        server.Responder = r => LastUserText(r.Recorded).Contains("train", StringComparison.Ordinal)
            ? ChatScript.Reply(longAnswer).StallAfter(26) // the first sentence, then the stream hangs open: still streaming when the user cuts in
            : ChatScript.Reply("Of course, go ahead.");
        var sink = new CollectingSink();
        var options = new SessionOptions { Width = 320, Height = 180, DropVideoWhenSinkIsSlow = false };
        await using var session = new ConversationSession(fixture.Resources, options, sink, Llm(server), SessionDriver.FastLlm());
        await session.StartAsync();
        SessionDriver.MeasureMouth(session, sink, fixture.Face);
        var driver = new SessionDriver(session, sink);

        await driver.SilenceAsync(TimeSpan.FromMilliseconds(400));
        await driver.PushAsync(TestSpeech.Say("What time does the next train leave?", "rms"));
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStartedSpeaking), TimeSpan.FromSeconds(20), "the replica starting to speak");
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(600));
        var interruption = TestSpeech.Say("Wait, I have another question about my booking.", "rms");
        var onset = driver.Pushed + VadTests.EnergyBounds(interruption).Start;
        await driver.PushAsync(interruption);
        await driver.SilenceUntilAsync(() => sink.Events.Count(e => e.Type == T.ReplicaStoppedSpeaking) >= 2, TimeSpan.FromSeconds(20), "the answer after the interruption");
        await session.CompleteAsync();

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        output.WriteLine($"user onset at {onset.TotalMilliseconds:F0} ms");
        var interrupted = Assert.Single(events, e => e.Type == T.ReplicaInterrupted);
        var firstStart = events.First(e => e.Type == T.ReplicaStartedSpeaking);
        Assert.True(firstStart.At < onset, "the replica was speaking when the user began");

        // Audio: the replica's voice stops within 150 ms of media time after the user's onset, until its next turn.
        var secondStart = events.Last(e => e.Type == T.ReplicaStartedSpeaking);
        var loud = sink.LoudAt().ToList();
        var lastBefore = loud.Where(t => t < secondStart.At).Max();
        output.WriteLine($"last replica sample before the cut at {lastBefore.TotalMilliseconds:F0} ms ({(lastBefore - onset).TotalMilliseconds:F0} ms after onset)");
        Assert.True(lastBefore > onset - TimeSpan.FromMilliseconds(300), "the replica was audible just before the user spoke");
        Assert.True(lastBefore <= onset + TimeSpan.FromMilliseconds(150), $"replica audio went on {(lastBefore - onset).TotalMilliseconds:F0} ms after the user's onset");

        // Mouth, from pixels: open while the replica spoke, back at rest (as in idle frames) from 150 ms + the
        // animator's 100 ms release after the user's onset until the next answer.
        var video = sink.Video;
        var idle = video.Where(v => v.At < firstStart.At).Max(v => v.Mouth);
        var talking = video.Where(v => v.At >= firstStart.At && v.At < onset).Max(v => v.Mouth);
        var afterCut = video.Where(v => v.At >= onset + TimeSpan.FromMilliseconds(250) && v.At < secondStart.At).ToList();
        output.WriteLine($"mouth dark pixels: idle max {idle}, talking max {talking}, after the cut max {afterCut.Max(v => v.Mouth)}");
        Assert.True(talking > idle + 5, $"the mouth did not open while talking ({talking} vs idle {idle})");
        Assert.All(afterCut, v => Assert.True(v.Mouth <= idle + 1, $"mouth still open at {v.At.TotalMilliseconds:F0} ms: {v.Mouth} dark pixels"));

        // The LLM request was aborted, and history keeps only what the user heard.
        var asked = server.Requests.Where(r => LastUserText(r).Contains("train", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(asked);
        foreach (var request in asked)
        {
            Assert.Equal(RequestEnd.ClientAborted, await request.Ended.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        var spoken = interrupted.Text!;
        Assert.False(string.IsNullOrWhiteSpace(spoken));
        Assert.StartsWith(spoken, longAnswer);
        Assert.True(spoken.Length < longAnswer.Length / 2, spoken);
        Assert.Contains(events, e => e.Type == T.Utterance && e.Role == "replica" && e.Text == spoken && e.InferenceId == interrupted.InferenceId);
        var history = await WaitForAsync(() => session.Conversation!.History.Snapshot(), h => h.Any(m => m.InferenceId == interrupted.InferenceId && m.Role == ChatRole.Assistant && m.Content == spoken), "history cut to the spoken text");
        Assert.DoesNotContain(history, m => m.Content!.Contains("timetable", StringComparison.Ordinal));

        // The conversation goes on: the user's words became the next turn and got an answer.
        Assert.Contains(events, e => e.Type == T.UserStartedSpeaking && e.Seq > interrupted.Seq);
        Assert.Equal("Of course, go ahead.", events.Last(e => e.Type == T.Utterance).Text);
    }

    [Fact]
    public async Task A_speculative_answer_is_discarded_when_the_user_goes_on_after_a_pause()
    {
        TestSpeech.RequireSpeechStack();
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = r => ChatScript.Reply("You said " + r.Messages[^1]!["content"]!.GetValue<string>() + ".");
        var sink = new CollectingSink();
        var options = new SessionOptions
        {
            Width = 128,
            Height = 72,
            DropVideoWhenSinkIsSlow = false,
            TurnTaking = new TurnTakingOptions { Patience = TurnTakingPatience.High },
        };
        await using var session = new ConversationSession(fixture.Resources, options, sink, Llm(server), SessionDriver.FastLlm());
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);

        var part1 = TestSpeech.Say("I would like to order a pizza and", "rms");
        var (s1, e1) = VadTests.EnergyBounds(part1);
        var part2 = TestSpeech.Say("a large green salad please.", "rms");
        var (s2, _) = VadTests.EnergyBounds(part2);
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(400));
        await driver.PushAsync(part1[(int)MediaTime.ToSamples(s1, 16_000)..(int)MediaTime.ToSamples(e1, 16_000)]);
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(350));
        await driver.PushAsync(part2[(int)MediaTime.ToSamples(s2, 16_000)..]);
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(20), "the answer");
        await session.CompleteAsync();

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        var user = Assert.Single(events, e => e.Type == T.Utterance && e.Role == "user");
        Assert.True(session.Speculations.Discarded >= 1, $"no speculation was discarded: {session.Speculations}");
        var requests = server.Requests;
        foreach (var request in requests.SkipLast(1))
        {
            // A speculative request may have been cancelled before it was sent; those sent were on the fragment, from
            // the ASR's hypothesis at the first silent frame (its last words may still change: "a peach sudan" for
            // "a pizza and") or its final: shorter than the whole utterance, with the same opening.
            var speculative = request.Messages[^1]!["content"]!.GetValue<string>();
            output.WriteLine($"speculation on '{speculative}', final '{user.Text}'");
            Assert.NotEqual(user.Text, speculative);
            var words = speculative.Split(' ');
            Assert.True(words.Length < user.Text!.Split(' ').Length, $"the speculation '{speculative}' was not on the fragment");
            Assert.StartsWith(string.Join(' ', words[..Math.Min(4, words.Length - 1)]), user.Text);
        }

        Assert.Equal(user.Text, requests[^1].Messages[^1]!["content"]!.GetValue<string>());

        // Only the committed answer was spoken, and only it stays in history.
        Assert.Single(events, e => e.Type == T.ReplicaStartedSpeaking);
        var replica = Assert.Single(events, e => e.Type == T.Utterance && e.Role == "replica");
        Assert.Equal("You said " + user.Text + ".", replica.Text);
        Assert.True(replica.Seq > user.Seq);
        var history = await WaitForAsync(() => session.Conversation!.History.Snapshot(), h => h.Count == 2, "history of one exchange");
        Assert.Equal([(ChatRole.User, user.Text!), (ChatRole.Assistant, replica.Text!)], history.Select(m => (m.Role, m.Content)));
        Assert.True(session.Speculations.Started >= 2, $"{session.Speculations}");
        Assert.Equal(replica.InferenceId, Assert.Single(session.Metrics).InferenceId);
    }

    [Fact]
    public async Task An_llm_failure_is_spoken_as_a_fallback_with_an_error_event_and_the_session_continues()
    {
        TestSpeech.RequireSpeechStack();
        await using var server = await OpenAiChatServer.StartAsync();
        var failing = true;
        server.Responder = _ => Volatile.Read(ref failing) ? ChatScript.HttpError(500) : ChatScript.Reply("Now I can answer you properly.");
        var sink = new CollectingSink();
        var llmOptions = SessionDriver.FastLlm();
        await using var session = new ConversationSession(fixture.Resources, SessionDriver.SmallVideo(), sink, Llm(server), llmOptions);
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);

        await driver.SilenceAsync(TimeSpan.FromMilliseconds(400));
        await driver.PushAsync(TestSpeech.Say("What time does the next train leave?", "rms"));
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(20), "the fallback");
        Volatile.Write(ref failing, false);
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(400));
        await driver.PushAsync(TestSpeech.Say("Is there a train tomorrow morning?", "rms"));
        await driver.SilenceUntilAsync(() => sink.Events.Count(e => e.Type == T.ReplicaStoppedSpeaking) >= 2, TimeSpan.FromSeconds(20), "the second answer");
        await session.CompleteAsync();

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        var error = Assert.Single(events, e => e.Type == T.Error);
        Assert.Equal("llm.http_error", error.ErrorCode);
        var replies = events.Where(e => e.Type == T.Utterance && e.Role == "replica").ToList();
        Assert.Equal([llmOptions.FallbackText, "Now I can answer you properly."], replies.Select(r => r.Text));
        Assert.Equal(error.InferenceId, replies[0].InferenceId);
        Assert.True(error.Seq < replies[0].Seq);
        Assert.Equal(2, session.Metrics.Count);
    }

    [Fact]
    public async Task A_tool_call_becomes_an_event_and_its_result_continues_the_turn()
    {
        TestSpeech.RequireSpeechStack();
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = r => r.Messages.Any(m => m!["role"]!.GetValue<string>() == "tool")
            ? ChatScript.Reply("It is sunny in Paris.")
            : ChatScript.ToolCall("call_w1", "get_weather", "{\"city\":\"Paris\"}");
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, SessionDriver.SmallVideo(), sink, Llm(server), SessionDriver.FastLlm());
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);

        await driver.SilenceAsync(TimeSpan.FromMilliseconds(400));
        await driver.PushAsync(TestSpeech.Say("What time does the next train leave?", "rms"));
        await driver.SilenceUntilAsync(() => sink.Has(T.ToolCall), TimeSpan.FromSeconds(20), "the tool call");
        var call = Assert.Single(sink.Events, e => e.Type == T.ToolCall);
        Assert.Equal(("call_w1", "get_weather", "{\"city\":\"Paris\"}"), (call.ToolCallId, call.ToolName, call.Arguments));
        Assert.DoesNotContain(sink.Events, e => e.Type == T.ReplicaStartedSpeaking);
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(500)); // the replica keeps listening meanwhile
        Assert.True(session.SubmitToolResult(new ToolResult("call_w1", "{\"sky\":\"sunny\"}")));
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(20), "the answer after the tool result");
        await session.CompleteAsync();

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        var replica = Assert.Single(events, e => e.Type == T.Utterance && e.Role == "replica");
        Assert.Equal("It is sunny in Paris.", replica.Text);
        Assert.Equal(call.InferenceId, replica.InferenceId);
        Assert.Equal(call.TurnIdx, replica.TurnIdx);
    }

    [Fact]
    public async Task A_speculations_tool_call_is_not_published_when_the_user_goes_on()
    {
        TestSpeech.RequireSpeechStack();
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = r => r.Messages.Any(m => m!["role"]!.GetValue<string>() == "tool")
            ? ChatScript.Reply("It is sunny in Paris.")
            : ChatScript.ToolCall("call_w1", "get_weather", "{\"city\":\"Paris\"}");
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, SessionDriver.SmallVideo(), sink, Llm(server), SessionDriver.FastLlm());
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);

        await driver.SilenceAsync(TimeSpan.FromMilliseconds(400));
        await driver.PushAsync(TestSpeech.Say("What is the weather like in", "rms"));
        // The user pauses mid-sentence: the speculation asks the LLM, which answers with a tool call at once.
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(100));
        var speculation = await server.WaitForRequestAsync(0, TimeSpan.FromSeconds(10));
        Assert.Equal(RequestEnd.Completed, await speculation.Ended.WaitAsync(TimeSpan.FromSeconds(10)));
        await Task.Delay(200); // real time for the client to read the answer (ordering only; nothing is timed)
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(60));
        await driver.CatchUpAsync();
        await Task.Delay(50); // the sender hands events to the sink on its own task
        Assert.DoesNotContain(sink.Events, e => e.Type == T.ToolCall);
        await driver.PushAsync(TestSpeech.Say("Paris this afternoon?", "rms"));
        await driver.SilenceUntilAsync(() => sink.Has(T.ToolCall), TimeSpan.FromSeconds(20), "the committed turn's tool call");
        Assert.True(session.SubmitToolResult(new ToolResult("call_w1", "{\"sky\":\"sunny\"}")));
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(20), "the answer after the tool result");
        await session.CompleteAsync();

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        Assert.DoesNotContain("paris", LastUserText(speculation), StringComparison.OrdinalIgnoreCase);
        var call = Assert.Single(events, e => e.Type == T.ToolCall);
        var replica = Assert.Single(events, e => e.Type == T.Utterance && e.Role == "replica");
        Assert.Equal("It is sunny in Paris.", replica.Text);
        Assert.Equal(call.InferenceId, replica.InferenceId);
        Assert.True(session.Speculations.Discarded >= 1, "the speculation on the fragment was discarded");
    }

    private static string LastUserText(RecordedRequest request) =>
        request.Messages.LastOrDefault(m => m!["role"]!.GetValue<string>() == "user")?["content"]?.GetValue<string>() ?? "";

    private static async Task<T2> WaitForAsync<T2>(Func<T2> read, Func<T2, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            var value = read();
            if (done(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{what} did not happen within 10 s; last: {value}");
            await Task.Delay(10);
        }
    }
}
