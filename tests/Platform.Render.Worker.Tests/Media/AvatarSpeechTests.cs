using System.Collections.Concurrent;
using Platform.Contracts;
using Platform.LiveKit.Ffi.Avatar;
using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Sessions;
using Platform.Render.Worker.Media;

namespace Platform.Render.Worker.Tests.Media;

/// <summary>
/// Avatar mode's speech into the engine: the tenant agent's segments through <see cref="AvatarSpeech"/> into a real
/// session (echo mode, Flite speech as the agent's audio), on the media clock: what each segment end and each clear
/// report as played is what the session says it played.
/// </summary>
public sealed class AvatarSpeechTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Chunk = 320; // 20 ms of microphone silence at 16 kHz: the media clock

    [Fact]
    public async Task Segments_play_back_to_back_report_what_was_played_and_a_clear_cuts_the_playing_one_and_drops_the_queued()
    {
        Assert.Null(WorkerEngine.Unavailable());
        using var engine = new WorkerEngine();
        var spec = new SessionSpec(ConversationId.New(TenantId.New()), """{"audio_only":true}""", """{"pipeline_mode":"full"}""", "Anna", null, [], 1, 0,
            LiveKitRoom: "tenant-room", AvatarAgent: "agent-7");
        var settings = SessionSettings.From(spec);
        Assert.Equal(SessionMode.Echo, settings.Options.Mode); // the agent does the thinking
        var (resources, owned) = engine.For(settings);
        var sink = new Sink();
        await using var session = new ConversationSession(resources, settings.Options, sink, settings.Llm);
        var speech = new AvatarSpeech(session);
        sink.Speech = speech;
        await session.StartAsync();
        var clock = new MediaClock(session);

        // Nothing pushed: nothing said, started and ended at once.
        var empty = speech.BeginSegment();
        await speech.EndSegmentAsync(CancellationToken.None);
        Assert.True(empty.HasStarted);
        Assert.Equal(new PlaybackEnd(TimeSpan.Zero, false), await empty.Ended);

        // Two segments, the second pushed and ended before the first has played: they play back to back, each to its end.
        var first = At48k(MediaTestKit.Speech("Thank you for calling, how can I help?"));
        var second = At48k(MediaTestKit.Speech("We are open every day."));
        var one = await PushSegmentAsync(speech, first);
        var two = await PushSegmentAsync(speech, second);
        Assert.False(one.IsEnded);
        var (end1, end2) = (await clock.RunUntilAsync(one.Ended), await clock.RunUntilAsync(two.Ended));
        foreach (var (end, pcm) in new[] { (end1, first), (end2, second) })
        {
            var length = AudioFormat.Output48k.DurationOf(pcm.Length);
            Assert.False(end.Interrupted);
            Assert.InRange(end.Position.TotalMilliseconds, length.TotalMilliseconds - 40, length.TotalMilliseconds + 40);
        }
        var stopped1 = sink.Events.Single(e => e.Type == SessionEventTypes.ReplicaStoppedSpeaking && e.InferenceId == "avatar-2");
        var started2 = sink.Events.Single(e => e.Type == SessionEventTypes.ReplicaStartedSpeaking && e.InferenceId == "avatar-3");
        output.WriteLine($"first segment played {end1.Position.TotalMilliseconds:F0} ms, second {end2.Position.TotalMilliseconds:F0} ms; gap between them {(started2.At - stopped1.At).TotalMilliseconds:F0} ms of media");
        Assert.InRange((started2.At - stopped1.At).TotalMilliseconds, 0, 40); // no gap beyond a frame between segments

        // A long segment with another queued behind it: cut 600 ms into its playback, the queued one never plays.
        var third = At48k(MediaTestKit.Speech("Our opening hours are from nine in the morning until six in the evening, every day."));
        var three = await PushSegmentAsync(speech, third);
        var four = await PushSegmentAsync(speech, second);
        await clock.RunUntilAsync(three.Started);
        var startedAt = clock.Pushed;
        await clock.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        await speech.ClearAsync(CancellationToken.None);
        var cut = await clock.RunUntilAsync(three.Ended);
        var dropped = await clock.RunUntilAsync(four.Ended);
        output.WriteLine($"third cut after 600 ms of media, heard {cut.Position.TotalMilliseconds:F0} ms");
        Assert.True(cut.Interrupted);
        Assert.InRange(cut.Position.TotalMilliseconds, 350, 900);
        Assert.Equal(new PlaybackEnd(TimeSpan.Zero, true), dropped);
        Assert.False(four.HasStarted);
        Assert.Single(sink.Events, e => e.Type == SessionEventTypes.ReplicaInterrupted && e.InferenceId == "avatar-4");
        Assert.DoesNotContain(sink.Events, e => e.InferenceId == "avatar-5" && e.Type == SessionEventTypes.ReplicaStartedSpeaking);
        Assert.True(clock.Pushed - startedAt < TimeSpan.FromSeconds(2), "the clear did not wait for the segment to play out");

        // A clear with nothing playing cuts nothing; the next segment plays.
        await speech.ClearAsync(CancellationToken.None);
        var five = await PushSegmentAsync(speech, second);
        Assert.False((await clock.RunUntilAsync(five.Ended)).Interrupted);
        Assert.Single(sink.Events, e => e.Type == SessionEventTypes.ReplicaInterrupted);
        foreach (var o in owned) o.Dispose();
    }

    /// <summary>One whole segment, begun, pushed in 20 ms frames and ended, as the avatar session does.</summary>
    private static async Task<SegmentPlayout> PushSegmentAsync(AvatarSpeech speech, short[] pcm48)
    {
        var playout = speech.BeginSegment();
        for (var i = 0; i < pcm48.Length; i += 960)
        {
            var n = Math.Min(960, pcm48.Length - i);
            await speech.PushSegmentAudioAsync(PcmFrame.Rent(pcm48.AsSpan(i, n), AudioFormat.Output48k, AudioFormat.Output48k.DurationOf(i)), CancellationToken.None);
        }
        await speech.EndSegmentAsync(CancellationToken.None);
        return playout;
    }

    private static short[] At48k(short[] pcm16) => new Resampler(16_000, 48_000).Process(pcm16);

    /// <summary>Drives the session's media clock with microphone silence (bounded, real time as a guard only).</summary>
    private sealed class MediaClock(ConversationSession session)
    {
        private readonly short[] _silence = new short[Chunk];
        private long _samples;

        public TimeSpan Pushed => MediaTime.FromSamples(_samples, 16_000);

        public async Task AdvanceAsync(TimeSpan duration)
        {
            var until = _samples + MediaTime.ToSamples(duration, 16_000);
            while (_samples < until) await PushAsync();
        }

        public async Task<T> RunUntilAsync<T>(Task<T> done)
        {
            await RunUntilAsync((Task)done);
            return await done;
        }

        public async Task RunUntilAsync(Task done)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (!done.IsCompleted)
            {
                Assert.True(DateTime.UtcNow < deadline, "the session did not get there within a minute of real time");
                await PushAsync();
            }
            await done;
        }

        private async Task PushAsync()
        {
            await session.PushAudioAsync(_silence);
            _samples += Chunk;
            // Stay near the loop: it, not the test, decides when a segment starts and stops.
            var waitUntil = DateTime.UtcNow + TimeSpan.FromSeconds(5);
            while (session.Clock < Pushed - TimeSpan.FromMilliseconds(60) && DateTime.UtcNow < waitUntil) await Task.Delay(1);
        }
    }

    private sealed class Sink : IMediaSink
    {
        public AvatarSpeech? Speech { get; set; }

        private readonly ConcurrentQueue<SessionEvent> _events = new();

        public IReadOnlyList<SessionEvent> Events => [.. _events];

        public ValueTask SendVideoAsync(I420Frame frame, CancellationToken cancellationToken)
        {
            frame.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask SendAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
        {
            frame.Dispose();
            return ValueTask.CompletedTask;
        }

        public ValueTask SendEventAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
        {
            _events.Enqueue(sessionEvent);
            Speech?.OnSessionEvent(sessionEvent);
            return ValueTask.CompletedTask;
        }
    }
}
