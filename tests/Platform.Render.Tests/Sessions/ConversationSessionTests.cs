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
        var request = await server.WaitForRequestAsync(0, TimeSpan.FromSeconds(5));
        Assert.Equal(userUtterance.Text, request.Messages[^1]!["content"]!.GetValue<string>());

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
}
