using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Sessions;
using Platform.Render.Tests.Face;
using Platform.Render.Tests.Speech;
using Platform.Render.Thinking;
using Xunit.Abstractions;
using T = Platform.Render.Sessions.SessionEventTypes;

namespace Platform.Render.Tests.Sessions;

[Collection(SessionCollection.Name)]
public sealed class SessionMediaTests(SessionFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public async Task An_idle_session_never_shows_a_frozen_frame()
    {
        var sink = new CollectingSink();
        var options = new SessionOptions { Width = 320, Height = 180, DropVideoWhenSinkIsSlow = false };
        await using var session = new ConversationSession(fixture.Resources, options, sink, new LlmSettings(LlmSettings.RepeatModel));
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);
        await driver.SilenceAsync(TimeSpan.FromSeconds(8));
        await session.CompleteAsync();

        var video = sink.Video;
        Assert.Equal(8 * 30, video.Count);
        var longest = 1;
        var run = 1;
        for (var i = 1; i < video.Count; i++)
        {
            run = video[i].Hash == video[i - 1].Hash ? run + 1 : 1;
            longest = Math.Max(longest, run);
        }

        var frozenFor = TimeSpan.FromSeconds((longest - 1) / 30.0);
        output.WriteLine($"longest run of identical frames: {longest} ({frozenFor.TotalMilliseconds:F0} ms)");
        Assert.True(frozenFor <= TimeSpan.FromMilliseconds(500), $"the picture stood still for {frozenFor.TotalMilliseconds:F0} ms");
        Assert.Empty(sink.Events);
        Assert.Equal(400, sink.Audio.Count);
        Assert.Empty(sink.LoudAt(1));
    }

    [Fact]
    public async Task An_audio_only_session_speaks_its_greeting_and_sends_no_video()
    {
        var sink = new CollectingSink();
        var options = new SessionOptions { AudioOnly = true, Greeting = "Hi, I am Anna. How can I help you today?" };
        await using var session = new ConversationSession(fixture.Resources, options, sink, new LlmSettings(LlmSettings.RepeatModel));
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(60), "the greeting");
        await session.CompleteAsync();

        output.WriteLine(SessionDriver.Describe(sink.Events));
        Assert.Empty(sink.Video);
        Assert.Equal([T.ReplicaStartedSpeaking, T.ReplicaStoppedSpeaking, T.Utterance], sink.Events.Select(e => e.Type));
        Assert.Equal(options.Greeting, sink.Events[^1].Text);
        Assert.Equal("replica", sink.Events[^1].Role);
        var loud = sink.LoudAt().ToList();
        Assert.InRange(loud[0], sink.Events[0].At, sink.Events[0].At + TimeSpan.FromMilliseconds(300));
        Assert.True(sink.Events[1].Duration > TimeSpan.FromSeconds(1.5));
        Assert.Empty(session.Metrics); // echo turns answer nobody: no latency to measure
    }

    [Fact]
    public async Task Echo_of_nothing_or_unspeakable_text_does_not_hold_up_what_follows()
    {
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, new SessionOptions { Mode = SessionMode.Echo, AudioOnly = true }, sink);
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);
        await session.SayAsync("");
        await session.SayAsync("   \u0001 ");
        await session.SayAsync("Hello there.");
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(60), "the third echo");
        await session.CompleteAsync();

        output.WriteLine(SessionDriver.Describe(sink.Events));
        Assert.Equal("Hello there.", Assert.Single(sink.Events, e => e.Type == T.Utterance).Text);
        Assert.DoesNotContain(sink.Events, e => e.ErrorCode == "session.unexpected");
    }

    [Fact]
    public async Task Bad_input_becomes_an_error_event_and_the_face_keeps_moving()
    {
        var sink = new CollectingSink();
        var options = new SessionOptions { Width = 128, Height = 72, DropVideoWhenSinkIsSlow = false, InputFormat = new AudioFormat(7_000, 3) };
        await using var session = new ConversationSession(fixture.Resources, options, sink, new LlmSettings(LlmSettings.RepeatModel));
        await session.StartAsync();
        var garbage = new byte[7_000 * 3 * 2 * 2 + 1]; // two seconds and an odd byte
        new Random(5).NextBytes(garbage);
        await session.PushAudioAsync(garbage);
        await session.CompleteAsync();

        var error = Assert.Single(sink.Events);
        Assert.Equal(T.Error, error.Type);
        Assert.Equal("audio.unsupported_format", error.ErrorCode);
        var video = sink.Video;
        Assert.InRange(video.Count, 55, 61);
        Assert.True(video.Zip(video.Skip(1)).All(p => p.First.Hash != p.Second.Hash), "frames repeat");
    }

    [Fact]
    public async Task Garbage_audio_in_a_good_format_keeps_the_session_running()
    {
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, SessionDriver.SmallVideo(), sink, new LlmSettings(LlmSettings.RepeatModel));
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);
        var clipped = Enumerable.Range(0, 16_000).Select(i => (short)(i % 7 < 3 ? short.MaxValue : short.MinValue)).ToArray();
        await driver.PushAsync(TestSpeech.Noise(TimeSpan.FromSeconds(1), 0.8, 3));
        await driver.PushAsync(clipped);
        await driver.SilenceAsync(TimeSpan.FromSeconds(3));
        await session.CompleteAsync();

        output.WriteLine(SessionDriver.Describe(sink.Events));
        Assert.DoesNotContain(sink.Events, e => e.ErrorCode == "session.unexpected");
        Assert.Equal(5 * 30, sink.Video.Count);
        Assert.Equal(250, sink.Audio.Count);
    }

    /// <summary>An echo-mode session at 320×180 whose sink counts the mouth's dark pixels in every frame.</summary>
    private async Task<(CollectingSink Sink, ConversationSession Session, SessionDriver Driver)> StartMouthMeasuredEchoAsync()
    {
        var sink = new CollectingSink();
        var options = new SessionOptions { Mode = SessionMode.Echo, Width = 320, Height = 180, DropVideoWhenSinkIsSlow = false };
        var session = new ConversationSession(fixture.Resources, options, sink);
        await session.StartAsync();
        SessionDriver.MeasureMouth(session, sink, fixture.Face);
        return (sink, session, new SessionDriver(session, sink));
    }

    [Fact]
    public async Task Lip_sync_measured_from_rendered_pixels_follows_the_flite_audio_envelope()
    {
        var (sink, session, driver) = await StartMouthMeasuredEchoAsync();
        await using var _ = session;
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(300));
        await session.SayAsync("Hello Bob. Are you OK? My mama made a banana pie. Go away, Papa.");
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(20), "the echo");
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(500));
        await session.CompleteAsync();

        var events = sink.Events;
        var sync = LipSync.Measure(sink, events.First(e => e.Type == T.ReplicaStartedSpeaking).At, events.First(e => e.Type == T.ReplicaStoppedSpeaking).At);
        output.WriteLine(sync.ToString());
        Assert.True(sync.MouthRange > 5, $"the mouth hardly moves: {sync}");
        Assert.True(sync.R >= 0.6, $"correlation {sync.R:F3} at {sync.Lag} ms");
        Assert.InRange(sync.Lag, -45, 45);
    }

    [Fact]
    public async Task An_apps_audio_echo_streamed_in_pieces_plays_back_to_back_with_the_mouth_following_it()
    {
        var (sink, session, driver) = await StartMouthMeasuredEchoAsync();
        await using var _ = session;
        var speech = fixture.Synthesizer.Synthesize("Hello Bob. Are you OK? My mama made a banana pie. Go away, Papa.");
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(300));

        // The app's TTS streams 100 ms pieces a little faster than real time (one every 80 ms of media time).
        var piece = speech.SampleRate / 10;
        for (var at = 0; at < speech.Audio.Length; at += piece)
        {
            var n = Math.Min(piece, speech.Audio.Length - at);
            await session.EchoAudioAsync(speech.Audio.AsMemory(at, n), speech.SampleRate, done: at + n >= speech.Audio.Length, inferenceId: "app-1");
            await driver.SilenceAsync(TimeSpan.FromMilliseconds(80));
        }

        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(10), "the audio echo");
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(500));
        await session.CompleteAsync();

        output.WriteLine(SessionDriver.Describe(sink.Events));
        var events = sink.Events;
        Assert.Equal([T.ReplicaStartedSpeaking, T.ReplicaStoppedSpeaking], events.Select(e => e.Type)); // no text: no utterance
        Assert.All(events, e => Assert.Equal("app-1", e.InferenceId));
        var stopped = events[1];
        // Every piece, without gaps: the replica spoke for exactly the audio's length (the 200 ms it waited for is before).
        Assert.InRange(stopped.Duration!.Value, speech.Duration - TimeSpan.FromMilliseconds(20), speech.Duration + TimeSpan.FromMilliseconds(20));
        var loud = sink.LoudAt().ToList();
        Assert.InRange(loud[0], events[0].At, events[0].At + TimeSpan.FromMilliseconds(300));
        Assert.True(loud[^1] <= stopped.At, $"audio at {loud[^1]} after the end {stopped.At}");

        var sync = LipSync.Measure(sink, events[0].At, stopped.At);
        output.WriteLine(sync.ToString());
        Assert.True(sync.MouthRange > 5, $"the mouth hardly moves: {sync}");
        Assert.True(sync.R >= 0.5, $"correlation {sync.R:F3} at {sync.Lag} ms");
        Assert.InRange(sync.Lag, -60, 60);
        Assert.Empty(session.Metrics);
    }

    [Fact]
    public async Task An_audio_echo_without_done_ends_after_a_pause_a_new_inference_id_is_a_new_utterance_and_an_interruption_drops_the_rest()
    {
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, new SessionOptions { Mode = SessionMode.Echo, AudioOnly = true }, sink);
        await session.StartAsync();
        var driver = new SessionDriver(session, sink);
        var speech = fixture.Synthesizer.Synthesize("There are many things to consider when you plan a long journey.");
        var half = speech.Audio.AsMemory(0, speech.Audio.Length / 2);

        // 'a' never says done: it ends 2 s (media time) after its audio ran out.
        var sentAt = driver.Pushed;
        await session.EchoAudioAsync(half, speech.SampleRate, done: false, inferenceId: "a");
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(6), "the end of 'a'");
        var a = sink.Events.Where(e => e.InferenceId == "a").ToList();
        Assert.Equal([T.ReplicaStartedSpeaking, T.ReplicaStoppedSpeaking], a.Select(e => e.Type));
        var halfDuration = MediaTime.FromSamples(half.Length, speech.SampleRate);
        Assert.InRange(a[1].At, sentAt + halfDuration + TimeSpan.FromSeconds(1.95), sentAt + halfDuration + TimeSpan.FromSeconds(2.1));

        // 'b' then 'c' without done: 'c' is its own utterance, after 'b'.
        await session.EchoAudioAsync(half, speech.SampleRate, done: false, inferenceId: "b");
        await session.EchoAudioAsync(half, speech.SampleRate, done: true, inferenceId: "c");
        await driver.SilenceUntilAsync(() => sink.Events.Any(e => e.InferenceId == "c" && e.Type == T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(8), "the end of 'c'");
        var b = sink.Events.Where(e => e.InferenceId == "b").ToList();
        var c = sink.Events.Where(e => e.InferenceId == "c").ToList();
        Assert.Equal([T.ReplicaStartedSpeaking, T.ReplicaStoppedSpeaking], b.Select(e => e.Type));
        Assert.Equal([T.ReplicaStartedSpeaking, T.ReplicaStoppedSpeaking], c.Select(e => e.Type));
        Assert.True(c[0].TurnIdx > b[0].TurnIdx && c[0].At >= b[1].At);
        Assert.InRange(b[1].Duration!.Value, halfDuration - TimeSpan.FromMilliseconds(20), halfDuration + TimeSpan.FromMilliseconds(20));

        // 'd' is interrupted by the app: what it still sends for 'd' is dropped, the next utterance plays.
        await session.EchoAudioAsync(speech.Audio, speech.SampleRate, done: false, inferenceId: "d");
        await driver.SilenceUntilAsync(() => sink.Events.Any(e => e.InferenceId == "d" && e.Type == T.ReplicaStartedSpeaking), TimeSpan.FromSeconds(2), "'d' starting");
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(500));
        await session.InterruptAsync();
        await session.EchoAudioAsync(speech.Audio, speech.SampleRate, done: true, inferenceId: "d");
        await driver.SilenceAsync(TimeSpan.FromSeconds(1));
        await session.EchoAudioAsync(half, speech.SampleRate, done: true, inferenceId: "e");
        await driver.SilenceUntilAsync(() => sink.Events.Any(e => e.InferenceId == "e" && e.Type == T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(6), "the end of 'e'");
        await session.CompleteAsync();

        output.WriteLine(SessionDriver.Describe(sink.Events));
        var d = sink.Events.Where(e => e.InferenceId == "d" && e.Type != T.Flush).ToList();
        Assert.Equal([T.ReplicaStartedSpeaking, T.ReplicaInterrupted, T.ReplicaStoppedSpeaking], d.Select(e => e.Type));
        var e0 = sink.Events.First(e => e.InferenceId == "e" && e.Type == T.ReplicaStartedSpeaking).At;
        Assert.DoesNotContain(sink.LoudAt(), t => t > d[1].At + TimeSpan.FromMilliseconds(40) && t < e0); // nothing of 'd' after the cut
        Assert.DoesNotContain(sink.Events, e => e.Type == T.Error);
    }
}
