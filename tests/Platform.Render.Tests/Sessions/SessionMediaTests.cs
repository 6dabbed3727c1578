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

    [Fact]
    public async Task Lip_sync_measured_from_rendered_pixels_follows_the_flite_audio_envelope()
    {
        var sink = new CollectingSink();
        var options = new SessionOptions { Mode = SessionMode.Echo, Width = 320, Height = 180, DropVideoWhenSinkIsSlow = false };
        await using var session = new ConversationSession(fixture.Resources, options, sink);
        await session.StartAsync();
        SessionDriver.MeasureMouth(session, sink, fixture.Face);
        var driver = new SessionDriver(session, sink);
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(300));
        await session.SayAsync("Hello Bob. Are you OK? My mama made a banana pie. Go away, Papa.");
        await driver.SilenceUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(20), "the echo");
        await driver.SilenceAsync(TimeSpan.FromMilliseconds(500));
        await session.CompleteAsync();

        var events = sink.Events;
        var start = events.First(e => e.Type == T.ReplicaStartedSpeaking).At;
        var stop = events.First(e => e.Type == T.ReplicaStoppedSpeaking).At;
        var audio = sink.Audio;
        var samples = audio.SelectMany(a => a.Samples).ToArray();
        double Envelope(double seconds)
        {
            // RMS over 40 ms of the audio actually sent, centred on the time.
            var centre = (int)(seconds * 48_000);
            int from = Math.Max(0, centre - 960), to = Math.Min(samples.Length, centre + 960);
            double sum = 0;
            for (var i = from; i < to; i++)
            {
                sum += (double)samples[i] * samples[i];
            }

            // Loudness as heard (compressed), like the animator's own envelope.
            return to > from ? Math.Pow(sum / (to - from), 0.25) : 0;
        }

        var frames = sink.Video.Where(v => v.At >= start - TimeSpan.FromMilliseconds(200) && v.At <= stop + TimeSpan.FromMilliseconds(200)).ToList();
        var open = frames.Select(f => f.Mouth).ToList();
        Assert.True(open.Max() > open.Min() + 5, $"the mouth hardly moves: {open.Min()}..{open.Max()} dark pixels");
        var best = (Lag: 0, R: double.MinValue);
        for (var lag = -300; lag <= 300; lag += 5)
        {
            var r = Stats.Correlation(open, frames.Select(f => Envelope(f.At.TotalSeconds + lag / 1000.0)).ToList());
            if (r > best.R)
            {
                best = (lag, r);
            }
        }

        output.WriteLine($"{frames.Count} frames, best lag {best.Lag} ms, r = {best.R:F3}");
        Assert.True(best.R >= 0.6, $"correlation {best.R:F3} at {best.Lag} ms");
        Assert.InRange(best.Lag, -45, 45);
    }
}
