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

/// <summary>
/// The replica's own audio leaking back into the microphone (a page whose echo canceller does not see our output):
/// it must not interrupt the replica, while a real user talking over it still does. All in media time: the fake
/// microphone is the session's own output, delayed and attenuated, plus (optionally) a user in another voice.
/// </summary>
[Collection(SessionCollection.Name)]
public sealed class EchoBargeInTests(SessionFixture fixture, ITestOutputHelper output)
{
    private const string Answer = "There are many things to consider when you plan a long journey across the country. "
        + "First you should look at the timetable carefully, and then you should book your seats early.";

    private static readonly TimeSpan EchoDelay = TimeSpan.FromMilliseconds(120);

    [Fact]
    public async Task The_replicas_own_echo_in_the_microphone_neither_interrupts_nor_holds_it()
    {
        TestSpeech.RequireSpeechStack();
        var quiet = await SpeakAnswerAsync(gain: 0, cancelEcho: true);
        var echoed = await SpeakAnswerAsync(gain: 0.5f, cancelEcho: true);
        output.WriteLine($"without echo: spoke {quiet.Spoke.TotalMilliseconds:F0} ms; with echo, cancelled: {echoed.Spoke.TotalMilliseconds:F0} ms");

        Assert.DoesNotContain(echoed.Events, e => e.Type is T.ReplicaInterrupted or T.UserStartedSpeaking or T.Flush);
        Assert.Equal(Answer, echoed.Events.Single(e => e.Type == T.Utterance && e.Role == "replica").Text);

        // Not even a hold (the replica pausing for what it takes for the user, 400 ms at least).
        Assert.Equal(0, quiet.Holds);
        Assert.Equal(0, echoed.Holds);
    }

    [Fact]
    public async Task Without_playback_reports_the_canceller_finds_the_echo_by_itself_and_the_replica_is_not_interrupted()
    {
        TestSpeech.RequireSpeechStack();
        var echoed = await SpeakAnswerAsync(gain: 0.5f, cancelEcho: true, reports: false);
        output.WriteLine($"no reports, echo cancelled: spoke {echoed.Spoke.TotalMilliseconds:F0} ms, {echoed.Holds} holds");
        Assert.DoesNotContain(echoed.Events, e => e.Type is T.ReplicaInterrupted or T.UserStartedSpeaking);
        Assert.Equal(Answer, echoed.Events.Single(e => e.Type == T.Utterance && e.Role == "replica").Text);

        // Known limit: until the envelopes have located the echo (a few hundred ms into the first answer) the replica
        // may pause for it (printed above); with the page's playback reports (system.playback) it never does.
    }

    [Fact]
    public async Task Without_the_canceller_the_same_echo_makes_the_replica_stop_for_its_own_voice()
    {
        // The control that gives the test above its power.
        TestSpeech.RequireSpeechStack();
        var quiet = await SpeakAnswerAsync(gain: 0, cancelEcho: false);
        var echoed = await SpeakAnswerAsync(gain: 0.5f, cancelEcho: false);
        output.WriteLine($"without echo: spoke {quiet.Spoke.TotalMilliseconds:F0} ms; with echo, not cancelled: {echoed.Spoke.TotalMilliseconds:F0} ms");
        Assert.Equal(0, quiet.Holds);
        Assert.True(echoed.Holds > 0 || echoed.Events.Any(e => e.Type == T.ReplicaInterrupted), "the echo went unnoticed even without the canceller");
    }

    [Fact]
    public async Task A_long_page_queue_is_cut_from_the_silence_before_the_answer_and_its_echo_still_neither_interrupts_nor_holds()
    {
        // A page whose playback queue grew to ~600 ms (a stall, then a burst), reporting it: before the answer the
        // session leaves out silence until ~60 ms are left, so the answer is heard that much sooner, and the echo
        // canceller, whose reference follows the page's playback, still removes the replica's voice.
        TestSpeech.RequireSpeechStack();
        var queue = TimeSpan.FromMilliseconds(600);
        var (events, _, holds, heardAfter, skipped) = await SpeakAnswerAsync(gain: 0.5f, cancelEcho: true, delay: queue, queueReports: true);
        output.WriteLine($"silence left out {skipped.TotalMilliseconds:F0} ms; the answer heard {heardAfter.TotalMilliseconds:F0} ms after its media time; {holds} holds");
        Assert.DoesNotContain(events, e => e.Type is T.ReplicaInterrupted or T.UserStartedSpeaking or T.Flush);
        Assert.Equal(Answer, events.Single(e => e.Type == T.Utterance && e.Role == "replica").Text);
        Assert.Equal(0, holds);
        Assert.InRange(skipped.TotalMilliseconds, 400, queue.TotalMilliseconds);
        Assert.True(heardAfter <= PlaybackQueue.MinKeep + TimeSpan.FromMilliseconds(100), $"the answer was heard {heardAfter.TotalMilliseconds:F0} ms after its media time");
    }

    private async Task<(IReadOnlyList<SessionEvent> Events, TimeSpan Spoke, int Holds)> SpeakAnswerAsync(float gain, bool cancelEcho, bool reports = true)
    {
        var (events, spoke, holds, _, _) = await SpeakAnswerAsync(gain, cancelEcho, EchoDelay, reports, queueReports: false);
        return (events, spoke, holds);
    }

    /// <summary>The answer spoken with its echo <paramref name="delay"/> late in the microphone; also when it was heard
    /// (on the microphone's clock) after its media time, and the silence the session left out.</summary>
    private async Task<(IReadOnlyList<SessionEvent> Events, TimeSpan Spoke, int Holds, TimeSpan HeardAfter, TimeSpan Skipped)> SpeakAnswerAsync(
        float gain, bool cancelEcho, TimeSpan delay, bool reports = true, bool queueReports = false)
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply(Answer);
        var sink = new CollectingSink();
        var options = new SessionOptions { AudioOnly = true, CancelEcho = cancelEcho };
        await using var session = new ConversationSession(fixture.Resources, options, sink, Llm(server), SessionDriver.FastLlm());
        await session.StartAsync();
        var mic = new EchoMicrophone(session, sink, delay, gain, reports, queueReports);

        // The page's queue forms in the first second (the page does not play yet) and is cut before the answer.
        await mic.PushAsync(TimeSpan.FromMilliseconds(queueReports ? 1_500 : 400));
        await session.RespondAsync("Tell me about travelling.");
        await mic.PushUntilAsync(() => sink.Has(T.ReplicaStoppedSpeaking), TimeSpan.FromSeconds(90), "the whole answer");
        await mic.PushAsync(TimeSpan.FromMilliseconds(600));
        await session.CompleteAsync();
        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        var started = events.First(e => e.Type == T.ReplicaStartedSpeaking).At;
        return (events, events.First(e => e.Type == T.ReplicaStoppedSpeaking).Duration!.Value, session.Holds, mic.HeardAt(started) - started, session.SkippedSilence);
    }

    [Fact]
    public async Task A_user_talking_over_the_replica_and_its_echo_still_barges_in_within_150_ms()
    {
        TestSpeech.RequireSpeechStack();
        await using var server = await OpenAiChatServer.StartAsync();
        var answered = 0;
        server.Responder = _ => Interlocked.Increment(ref answered) == 1 ? ChatScript.Reply(Answer) : ChatScript.Reply("Of course, go ahead.");
        var sink = new CollectingSink();
        await using var session = new ConversationSession(fixture.Resources, new SessionOptions { AudioOnly = true }, sink, Llm(server), SessionDriver.FastLlm());
        await session.StartAsync();
        var mic = new EchoMicrophone(session, sink, EchoDelay, gain: 0.5f);

        await mic.PushAsync(TimeSpan.FromMilliseconds(400));
        await session.RespondAsync("Tell me about travelling.");
        await mic.PushUntilAsync(() => sink.Has(T.ReplicaStartedSpeaking), TimeSpan.FromSeconds(60), "the replica starting");
        // The user starts where this test always had them start in the answer's audio: 1.5 s plus the ~140 ms that the
        // first clause's leading pause used to take (it now starts 20 ms before its sound). Where "Wait" lands matters:
        // over the louder echo of some phonemes Silero misses the soft first word and holds only at the next one
        // (370 ms late, once in CI): a known limit (README).
        await mic.PushAsync(TimeSpan.FromMilliseconds(1640));
        var user = TestSpeech.Say("Wait, I have another question about my booking.", "awb");
        var onset = mic.Pushed + VadTests.EnergyBounds(user).Start;
        mic.Mix(user);
        await mic.PushUntilAsync(() => sink.Events.Count(e => e.Type == T.ReplicaStoppedSpeaking) >= 2, TimeSpan.FromSeconds(60), "the answer after the interruption");
        await session.CompleteAsync();

        var events = sink.Events;
        output.WriteLine(SessionDriver.Describe(events));
        output.WriteLine($"user onset at {onset.TotalMilliseconds:F0} ms");
        var interrupted = Assert.Single(events, e => e.Type == T.ReplicaInterrupted);
        var firstStart = events.First(e => e.Type == T.ReplicaStartedSpeaking);
        var secondStart = events.Last(e => e.Type == T.ReplicaStartedSpeaking);
        Assert.True(firstStart.At < onset);
        var loud = sink.LoudAt().Where(t => t < secondStart.At).ToList();
        var last = loud.Max();
        output.WriteLine($"last replica sample before the cut at {last.TotalMilliseconds:F0} ms ({(last - onset).TotalMilliseconds:F0} ms after the onset)");
        Assert.True(last > onset - TimeSpan.FromMilliseconds(300), "the replica was talking when the user began");
        Assert.True(last <= onset + TimeSpan.FromMilliseconds(150), $"replica audio went on {(last - onset).TotalMilliseconds:F0} ms after the user's onset");
        Assert.True(interrupted.At > onset);
        // The user's turn is heard and answered. Its words are not asserted: over the echo's first 100 ms PocketSphinx
        // sometimes mishears the whole sentence ("we need another notable …" for "wait I have another question …"),
        // depending on where in the replica's word the cut falls — a known limit (README), not a barge-in failure.
        var userSaid = events.Last(e => e.Type == T.Utterance && e.Role == "user").Text!;
        output.WriteLine($"the user's turn was heard as '{userSaid}'");
        Assert.True(userSaid.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length >= 4, $"the user's turn was lost: '{userSaid}'");
        Assert.Equal("Of course, go ahead.", events.Last(e => e.Type == T.Utterance).Text);
    }

    [Fact]
    public void The_canceller_finds_the_delay_without_reports_and_removes_most_of_the_echo()
    {
        var speech = TestSpeech.Say("There are many things to consider when you plan a long journey across the country by train.", "rms");
        var echo = new EchoCanceller();
        var delay = 3_200; // 200 ms
        const int chunk = 160;
        double inLate = 0, outLate = 0;
        var lateFrom = speech.Length / 2;
        for (var n = 0; n + chunk <= speech.Length; n += chunk)
        {
            var at = MediaTime.FromSamples(n, 16_000);
            echo.AddReference(at, speech.AsSpan(n, chunk));
            var mic = Echoed(speech, n, chunk, delay, 0.4f);

            var before = mic.ToArray();
            echo.Process(at, mic);
            if (n >= lateFrom)
            {
                inLate += before.Sum(s => (double)s * s);
                outLate += mic.Sum(s => (double)s * s);
            }
        }

        var erle = 10 * Math.Log10(inLate / Math.Max(1, outLate));
        output.WriteLine($"delay {echo.Delay?.TotalMilliseconds} ms, echo reduced by {erle:F1} dB over the second half");
        Assert.NotNull(echo.Delay);
        Assert.InRange(echo.Delay!.Value.TotalMilliseconds, 199, 201);
        Assert.True(erle >= 20, $"only {erle:F1} dB");

        // With nothing sent, the microphone passes unchanged.
        var quiet = new EchoCanceller();
        var user = speech[..1600].ToArray();
        quiet.Process(TimeSpan.Zero, user);
        Assert.Equal(speech[..1600], user);
    }

    [Fact]
    public void The_echos_residue_is_turned_down_while_a_voice_over_the_echo_passes_untouched()
    {
        // A loudspeaker path with a soft non-linearity leaves a residue no linear filter removes (~43 dB down here; in
        // the session tests 20–30 dB, which Silero heard as speech at p ≈ 0.55 before it was suppressed). The second
        // half adds a user at the echo's level.
        var replica = TestSpeech.Say("There are many things to consider when you plan a long journey across the country by train, "
            + "and the timetable is the first of them.", "rms");
        var user = TestSpeech.Say("Wait, I have another question about my booking for tomorrow.", "awb");
        var echo = new EchoCanceller();
        echo.SetDelayHint(TimeSpan.FromMilliseconds(120));
        var delay = 1_920;
        const int chunk = 160;
        var userFrom = replica.Length / 2;
        double echoIn = 0, echoOut = 0, userIn = 0, talkOut = 0;
        int echoChunks = 0, suppressed = 0, talkChunks = 0, talkSuppressed = 0;
        for (var n = 0; n + chunk <= replica.Length; n += chunk)
        {
            var at = MediaTime.FromSamples(n, 16_000);
            echo.AddReference(at, replica.AsSpan(n, chunk));
            var mic = new short[chunk];
            var voice = new short[chunk];
            for (var i = 0; i < chunk; i++)
            {
                var src = n + i - delay;
                var leaked = src >= 0 ? 12_000 * MathF.Tanh(replica[src] * 0.4f / 12_000) : 0;
                var u = n + i - userFrom;
                voice[i] = u >= 0 && u < user.Length ? (short)(user[u] * 0.4f) : (short)0;
                mic[i] = (short)Math.Clamp(leaked + voice[i], short.MinValue, short.MaxValue);
            }

            var before = mic.ToArray();
            echo.Process(at, mic);
            var voiced = voice.Sum(s => (double)s * s) / chunk > 1e5; // the user clearly talking in this chunk
            if (n >= userFrom / 2 && n < userFrom && before.Sum(s => (double)s * s) > 0)
            {
                echoIn += before.Sum(s => (double)s * s);
                echoOut += mic.Sum(s => (double)s * s);
                echoChunks++;
                suppressed += echo.LastSuppressionDb > 0 ? 1 : 0;
            }
            else if (voiced)
            {
                userIn += voice.Sum(s => (double)s * s);
                talkOut += mic.Sum(s => (double)s * s);
                talkChunks++;
                talkSuppressed += echo.LastSuppressionDb > 0 ? 1 : 0;
            }
        }

        var erle = 10 * Math.Log10(echoIn / Math.Max(1, echoOut));
        var kept = 10 * Math.Log10(talkOut / userIn);
        output.WriteLine($"echo alone: reduced by {erle:F1} dB, {suppressed}/{echoChunks} chunks' residue suppressed; "
            + $"user over the echo: kept at {kept:+0.0;-0.0} dB of the user's own energy, {talkSuppressed}/{talkChunks} chunks suppressed");
        Assert.True(erle >= 50, $"the echo alone was reduced by only {erle:F1} dB");
        Assert.True(suppressed * 2 > echoChunks, "the residue was not suppressed");
        Assert.InRange(kept, -3, 3);
        Assert.True(talkSuppressed * 10 <= talkChunks, $"{talkSuppressed} of {talkChunks} chunks with the user talking were turned down");
    }

    [Theory]
    [InlineData(100)]  // the jitter buffer played 100 ms of silence for late audio
    [InlineData(-60)]  // … or trimmed 60 ms of backlog
    public void When_the_microphone_timeline_jumps_the_canceller_moves_with_it_at_once(int jumpMs)
    {
        // An echo 200 ms late; half-way through, the microphone's timeline jumps. Told of it, the canceller keeps
        // cancelling through the 250 ms after the jump (before any re-estimate could find the new delay); not told, it cannot.
        var told = Cancel(tell: true);
        var untold = Cancel(tell: false);
        output.WriteLine($"jump {jumpMs} ms: over the 250 ms after it, echo reduced by {told:F1} dB when told, {untold:F1} dB when not");
        Assert.True(told >= 20, $"only {told:F1} dB after the jump");
        Assert.True(untold < 10, $"the control cancelled {untold:F1} dB without being told");

        double Cancel(bool tell)
        {
            var speech = TestSpeech.Say("There are many things to consider when you plan a long journey across the country by train.", "rms");
            var echo = new EchoCanceller();
            echo.SetDelayHint(TimeSpan.FromMilliseconds(200));
            const int chunk = 160;
            var jumpAt = speech.Length / 2 / chunk * chunk;
            var jump = jumpMs * 16;
            double inAfter = 0, outAfter = 0;
            for (var n = 0; n + chunk <= speech.Length; n += chunk)
            {
                var at = MediaTime.FromSamples(n, 16_000);
                echo.AddReference(at, speech.AsSpan(n, chunk));
                if (n == jumpAt && tell)
                {
                    echo.ShiftTimeline(TimeSpan.FromMilliseconds(jumpMs));
                }

                var delay = 3_200 + (n >= jumpAt ? jump : 0);
                var mic = Echoed(speech, n, chunk, delay, 0.4f);

                var before = mic.ToArray();
                echo.Process(at, mic);
                if (n >= jumpAt && n < jumpAt + 4_000)
                {
                    inAfter += before.Sum(s => (double)s * s);
                    outAfter += mic.Sum(s => (double)s * s);
                }
            }

            return 10 * Math.Log10(inAfter / Math.Max(1, outAfter));
        }
    }

    [Fact]
    public void When_the_session_leaves_silence_out_the_canceller_follows_the_page_and_keeps_cancelling()
    {
        // Between two stretches of speech, 500 ms of silence in media time, of which the session sends 200 ms and
        // leaves 300 ms out (the page's queue was long): the page plays the second stretch 300 ms earlier than its
        // media time says. Told of it, the canceller cancels the second stretch's echo from its first 250 ms on; not
        // told (the reference keeps the gap), it cannot.
        var told = Cancel(tell: true);
        var untold = Cancel(tell: false);
        output.WriteLine($"over the 250 ms after the skipped silence: echo reduced by {told:F1} dB when told, {untold:F1} dB when not");
        Assert.True(told >= 20, $"only {told:F1} dB after the skip");
        Assert.True(untold < 10, $"the control cancelled {untold:F1} dB without being told");

        double Cancel(bool tell)
        {
            var speech = TestSpeech.Say("There are many things to consider when you plan a long journey across the country by train.", "rms");
            const int chunk = 160, delay = 3_200, sent = 3_200, skipped = 4_800;
            var half = speech.Length / 2 / chunk * chunk;
            // What the page plays: the first stretch, the 200 ms of silence sent, the second stretch.
            var played = speech[..half].Concat(new short[sent]).Concat(speech[half..]).ToArray();
            var echo = new EchoCanceller();
            echo.SetDelayHint(MediaTime.FromSamples(delay, 16_000));
            var resumeAt = half + sent; // played index where the second stretch starts
            double inAfter = 0, outAfter = 0;
            for (var p = 0; p + chunk <= played.Length; p += chunk)
            {
                if (p == resumeAt && tell)
                {
                    echo.SkipReference(MediaTime.FromSamples(skipped, 16_000));
                }

                var media = p < resumeAt ? p : p + skipped;
                echo.AddReference(MediaTime.FromSamples(media, 16_000), played.AsSpan(p, chunk));
                var mic = Echoed(played, p, chunk, delay, 0.4f); // the microphone runs on the media clock: index p
                var before = mic.ToArray();
                echo.Process(MediaTime.FromSamples(p, 16_000), mic);
                if (p >= resumeAt + delay && p < resumeAt + delay + 4_000)
                {
                    inAfter += before.Sum(s => (double)s * s);
                    outAfter += mic.Sum(s => (double)s * s);
                }
            }

            return 10 * Math.Log10(inAfter / Math.Max(1, outAfter));
        }
    }

    [Fact]
    public void Reports_that_miss_the_capture_latency_centre_the_search_but_do_not_pull_the_delay_off_the_echo()
    {
        // The page reports where it plays, not when its microphone captured: here every report is 40 ms short of the
        // real 240 ms, with ±8 ms of jitter. The measured delay must hold (and cancel) through them.
        var speech = TestSpeech.Say("There are many things to consider when you plan a long journey across the country by train.", "rms");
        var echo = new EchoCanceller();
        const int chunk = 160;
        const int delay = 3_840;
        double inLate = 0, outLate = 0;
        int[] jitter = [0, 128, -128, 64, -64];
        for (var n = 0; n + chunk <= speech.Length; n += chunk)
        {
            var at = MediaTime.FromSamples(n, 16_000);
            echo.AddReference(at, speech.AsSpan(n, chunk));
            if (n % 3_200 == 0)
            {
                echo.SetDelayHint(MediaTime.FromSamples(delay - 640 + jitter[n / 3_200 % jitter.Length], 16_000));
            }

            var mic = Echoed(speech, n, chunk, delay, 0.5f);

            var before = mic.ToArray();
            echo.Process(at, mic);
            if (n >= speech.Length / 2)
            {
                inLate += before.Sum(s => (double)s * s);
                outLate += mic.Sum(s => (double)s * s);
            }
        }

        var erle = 10 * Math.Log10(inLate / Math.Max(1, outLate));
        output.WriteLine($"delay {echo.Delay?.TotalMilliseconds} ms (reports {echo.DelayHint?.TotalMilliseconds} ms); echo reduced by {erle:F1} dB over the second half");
        Assert.InRange(echo.Delay!.Value.TotalMilliseconds, 239, 241);
        Assert.True(erle >= 20, $"only {erle:F1} dB");
    }

    /// <summary>The microphone's <paramref name="chunk"/> samples from <paramref name="n"/>: <paramref name="speech"/> <paramref name="delay"/> samples late at <paramref name="gain"/>.</summary>
    private static short[] Echoed(short[] speech, int n, int chunk, int delay, float gain)
    {
        var mic = new short[chunk];
        for (var i = 0; i < chunk; i++)
        {
            var src = n + i - delay;
            mic[i] = src >= 0 && src < speech.Length ? (short)(speech[src] * gain) : (short)0;
        }

        return mic;
    }

    private static LlmSettings Llm(OpenAiChatServer server) => new("test-model", BaseUrl: server.BaseUrl.ToString(), ApiKey: "sk-test");

    /// <summary>
    /// A page in a loop with the session: its microphone hears the session's output <c>delay</c> later at
    /// <c>gain</c>, plus whatever is mixed in, and it reports its playback position every 100 ms as the page does.
    /// </summary>
    private sealed class EchoMicrophone(ConversationSession session, CollectingSink sink, TimeSpan delay, float gain, bool reports = true, bool queueReports = false)
    {
        private const int Chunk = 320;
        private readonly Resampler _down = new(48_000, 16_000);
        private readonly List<short> _heard = []; // the session's output at 16 kHz as the page plays it: frames back to back
        private readonly List<(int Start, TimeSpan Media)> _frames = []; // where each output frame starts in _heard
        private readonly long _delay = MediaTime.ToSamples(delay, 16_000);
        private int _framesRead;
        private short[] _mix = [];
        private long _mixAt;
        private readonly AnswerPacing _pacing = new(session);

        public long PushedSamples { get; private set; }

        public TimeSpan Pushed => MediaTime.FromSamples(PushedSamples, 16_000);

        public ConversationSession Session => session;

        /// <summary>Adds <paramref name="audio"/> (16 kHz) to the microphone from now on.</summary>
        public void Mix(short[] audio)
        {
            _mix = audio;
            _mixAt = PushedSamples;
        }

        public async Task PushAsync(TimeSpan duration)
        {
            var until = PushedSamples + MediaTime.ToSamples(duration, 16_000);
            while (PushedSamples < until)
            {
                await PushChunkAsync();
            }
        }

        public async Task PushUntilAsync(Func<bool> done, TimeSpan maxMedia, string what)
        {
            var limit = PushedSamples + MediaTime.ToSamples(maxMedia, 16_000);
            while (!done())
            {
                Assert.True(PushedSamples < limit, $"{what} did not happen within {maxMedia.TotalSeconds:F0} s of media time; events: {SessionDriver.Describe(sink.Events)}");
                await PushChunkAsync();
            }
        }

        private async Task PushChunkAsync()
        {
            await _pacing.BeforeChunkAsync(Pushed);
            var need = PushedSamples + Chunk - _delay; // the echo of this chunk is the output up to here
            var deadline = DateTime.UtcNow + SessionDriver.Deadline;
            while (true)
            {
                // Everything the session has sent is in the page's queue (queueReports: the page says how much).
                var frames = sink.TimedAudioFrom(_framesRead);
                _framesRead += frames.Count;
                foreach (var (at, samples) in frames)
                {
                    _frames.Add((_heard.Count, at));
                    _heard.AddRange(_down.Process(samples));
                }

                if (_heard.Count >= need)
                {
                    break;
                }

                Assert.True(DateTime.UtcNow < deadline, $"the session's output stalled at {_heard.Count} samples (clock {session.Clock}); events: {SessionDriver.Describe(sink.Events)}");
                await Task.Delay(1);
            }

            var mic = new short[Chunk];
            for (var i = 0; i < Chunk; i++)
            {
                var n = PushedSamples + i;
                var echo = n - _delay >= 0 ? _heard[(int)(n - _delay)] * gain : 0;
                var m = n - _mixAt;
                var user = m >= 0 && m < _mix.Length ? _mix[m] : 0;
                mic[i] = (short)Math.Clamp(echo + user, short.MinValue, short.MaxValue);
            }

            await session.PushAudioAsync(mic);
            PushedSamples += Chunk;
            if (reports && PushedSamples % 1_600 == 0)
            {
                // The page plays, now, what was sent `delay` ago (on its playback: frames back to back).
                var head = PushedSamples - _delay;
                if (!queueReports)
                {
                    session.ReportPlaybackPosition(Pushed - delay);
                }
                else if (head >= 0)
                {
                    session.ReportPlaybackPosition(MediaAt(head), queued: MediaTime.FromSamples(_heard.Count - head, 16_000));
                }
            }
        }

        /// <summary>The media time of the sample the page plays at <paramref name="index"/> of its playback.</summary>
        private TimeSpan MediaAt(long index)
        {
            var f = _frames.FindLastIndex(x => x.Start <= index);
            return f < 0 ? TimeSpan.Zero : _frames[f].Media + MediaTime.FromSamples(index - _frames[f].Start, 16_000);
        }

        /// <summary>When (on the microphone's clock) the page played the output stamped <paramref name="media"/>.</summary>
        public TimeSpan HeardAt(TimeSpan media)
        {
            var f = _frames.FindIndex(x => x.Media >= media);
            return f < 0 ? TimeSpan.MaxValue : MediaTime.FromSamples(_frames[f].Start, 16_000) + delay;
        }
    }
}
