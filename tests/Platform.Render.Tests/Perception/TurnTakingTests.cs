using Platform.Render.Perception;
using Platform.Render.Speech.PocketSphinx;
using Platform.Render.Tests.Speech;
using Xunit.Abstractions;

namespace Platform.Render.Tests.Perception;

[Collection(VadCollection.Name)]
public sealed class TurnTakingTests(VadFixture vad, ITestOutputHelper output)
{
    /// <summary>Fragment, pause (ms), continuation. The first fragment is incomplete: the user is not done.</summary>
    private static readonly (string First, int PauseMs, string Then)[] Incomplete =
    [
        ("I want to, um,", 800, "book a table for tonight."),
        ("And then the", 700, "car stopped in the middle of the road."),
        ("My favourite colour is", 600, "blue."),
        ("I was thinking that", 900, "we could meet tomorrow."),
        ("Can you tell me about the", 700, "weather in London?"),
        ("So we went to the store and", 800, "bought some milk."),
        ("The problem is that", 1000, "nobody called me back."),
        ("I need a", 600, "new phone charger."),
        ("Yesterday I met with my", 700, "brother and his wife."),
        ("We could go there by", 800, "train or by bus."),
        ("I would like to order the", 900, "chicken soup please."),
        ("Could you send it to", 700, "my office address?"),
    ];

    /// <summary>The first fragment is complete on its own, then the user goes on after a pause of 300–900 ms.</summary>
    private static readonly (string First, int PauseMs, string Then)[] Complete =
    [
        ("I went to the store.", 300, "Then I bought some milk."),
        ("It was a long day.", 350, "I am very tired now."),
        ("What time is it?", 700, "I think I am late."),
        ("The weather is nice today.", 400, "Let us go outside."),
        ("I like this song.", 450, "It reminds me of summer."),
        ("Where is the station?", 800, "I need to catch a train."),
        ("Thank you very much.", 500, "That was really helpful."),
        ("My brother lives in Paris.", 550, "He works at a bank."),
        ("Can you help me with my homework?", 900, "It is due tomorrow."),
        ("We had a great holiday.", 600, "The hotel was lovely."),
    ];

    private sealed record Recorded(string Name, TimeSpan PauseStart, TimeSpan PauseEnd, TimeSpan End, List<(VadFrame? Frame, string? Partial)> Timeline);

    [Fact]
    public async Task Never_yields_in_pauses_after_incomplete_fragments_and_reports_yield_rate_after_complete_ones()
    {
        TestSpeech.RequireSpeechStack();
        var all = Incomplete.Select((u, i) => (u, incomplete: true, voice: TestSpeech.UserVoices[i % 3]))
            .Concat(Complete.Select((u, i) => (u, incomplete: false, voice: TestSpeech.UserVoices[i % 3])))
            .ToArray();

        // Real VAD and real ASR partials, recorded once per utterance (one decoder per voice, voices in parallel),
        // then replayed into a turn-taker per patience level.
        var recognizer = new PocketSphinxRecognizer();
        var recorded = (await Task.WhenAll(all.GroupBy(x => x.voice).Select(g => Task.Run(() =>
        {
            using var asr = recognizer.Open(out var error);
            Assert.True(asr is not null, error?.ToString());
            return g.Select(x => (Record(asr, x.u, x.voice), x.incomplete)).ToList();
        })))).SelectMany(x => x).ToList();

        foreach (var (rec, _) in recorded)
        {
            var paused = Replay(rec, new TurnTakingOptions()).FirstOrDefault(d => d.Signal == TurnSignal.UserPaused);
            output.WriteLine($"{rec.Name}: heard at the pause '{paused?.Transcript}' ({paused?.Shape})");
        }
        var summary = new List<string>();
        foreach (var patience in Enum.GetValues<TurnTakingPatience>())
        {
            int prematureIncomplete = 0, yieldedComplete = 0, finalYields = 0;
            var finalLatencies = new List<double>();
            foreach (var (rec, incomplete) in recorded)
            {
                var decisions = Replay(rec, new TurnTakingOptions { Patience = patience });
                var inPause = decisions.Where(d => d.Signal == TurnSignal.FloorYielded && d.At > rec.PauseStart && d.At <= rec.PauseEnd).ToList();
                if (incomplete && inPause.Count > 0)
                {
                    prematureIncomplete++;
                    output.WriteLine($"PREMATURE [{patience}] {rec.Name}: yielded at {inPause[0].At.TotalMilliseconds:F0} ms on '{inPause[0].Transcript}' ({inPause[0].Shape})");
                }
                if (!incomplete && inPause.Count > 0) yieldedComplete++;
                var final = decisions.LastOrDefault(d => d.Signal == TurnSignal.FloorYielded && d.At > rec.End);
                if (final is not null)
                {
                    finalYields++;
                    finalLatencies.Add((final.At - rec.End).TotalMilliseconds);
                }
            }
            finalLatencies.Sort();
            var line = $"patience {patience}: premature after incomplete {prematureIncomplete}/{Incomplete.Length}, " +
                       $"yield rate after complete fragments {yieldedComplete}/{Complete.Length} = {100.0 * yieldedComplete / Complete.Length:F0}%, " +
                       $"final floor decisions {finalYields}/{recorded.Count}, median {finalLatencies.ElementAtOrDefault(finalLatencies.Count / 2):F0} ms after the end of speech energy";
            summary.Add(line);
            output.WriteLine(line);
            Console.WriteLine("[Platform.Render.Tests] turn-taking " + line);
            Assert.Equal(0, prematureIncomplete);
            Assert.Equal(recorded.Count, finalYields);
        }
    }

    private Recorded Record(PocketSphinxStream asr, (string First, int PauseMs, string Then) u, string voice)
    {
        // Fragments cut to their speech energy, so the pause is exactly PauseMs of silence.
        var first = Trim(TestSpeech.Say(u.First, voice));
        var rest = Trim(TestSpeech.Say(u.Then, voice));
        var lead = TestSpeech.Silence(TimeSpan.FromMilliseconds(300));
        var audio = TestSpeech.Concat(lead, first, TestSpeech.Silence(TimeSpan.FromMilliseconds(u.PauseMs)), rest, TestSpeech.Silence(TimeSpan.FromSeconds(3)));
        var pauseStart = TimeSpan.FromSeconds((lead.Length + first.Length) / 16_000.0);
        var pauseEnd = pauseStart + TimeSpan.FromMilliseconds(u.PauseMs);
        var end = pauseEnd + TimeSpan.FromSeconds(rest.Length / 16_000.0);

        // As the pipeline runs ASR: partials while the user talks; at each VAD pause the segment is closed for a
        // final (better than the partial: the decoder knows the phrase ended) and the next segment opens.
        using var detector = new VoiceActivityDetector(vad.Model);
        var timeline = new List<(VadFrame?, string?)>();
        var said = "";
        asr.BeginUtterance(TimeSpan.Zero);
        for (var i = 0; i + 512 <= audio.Length; i += 512)
        {
            var chunk = audio.AsSpan(i, 512);
            var partial = asr.Accept(chunk);
            if (partial is not null) timeline.Add((null, (said + " " + partial.Text).Trim()));
            foreach (var f in detector.Push(chunk))
            {
                if (f.Event == VadEventKind.SpeechEnded)
                {
                    said = (said + " " + asr.EndUtterance().Transcript.Text).Trim();
                    timeline.Add((null, said));
                    asr.BeginUtterance(f.FrameEnd);
                }
                timeline.Add((f, null));
            }
        }
        asr.EndUtterance();
        return new Recorded($"[{voice}] \"{u.First} ... {u.Then}\"", pauseStart, pauseEnd, end, timeline);
    }

    private static short[] Trim(short[] speech)
    {
        var (start, stop) = VadTests.EnergyBounds(speech);
        return speech[(int)(start.TotalSeconds * 16_000)..(int)(stop.TotalSeconds * 16_000)];
    }

    private static List<TurnDecision> Replay(Recorded rec, TurnTakingOptions options)
    {
        var taker = new TurnTaker(options);
        var decisions = new List<TurnDecision>();
        foreach (var (frame, partial) in rec.Timeline)
        {
            if (partial is not null) taker.OnTranscript(partial);
            if (frame is { } f) decisions.AddRange(taker.OnVadFrame(f));
        }
        return decisions;
    }

    [Theory]
    [InlineData("i want to um", UtteranceShape.Incomplete)]
    [InlineData("and then the", UtteranceShape.Incomplete)]
    [InlineData("and then", UtteranceShape.Incomplete)]
    [InlineData("I was going to say,", UtteranceShape.Incomplete)]
    [InlineData("what time does the train leave", UtteranceShape.Question)]
    [InlineData("Is it open?", UtteranceShape.Question)]
    [InlineData("um can you help me", UtteranceShape.Question)]
    [InlineData("i forgot my keys at home", UtteranceShape.Statement)]
    [InlineData("thank you", UtteranceShape.Statement)]
    [InlineData("", UtteranceShape.Unknown)]
    [InlineData("can you tell me where the station is", UtteranceShape.Question)]
    [InlineData("i know what it was", UtteranceShape.Statement)]
    [InlineData("what i mean is", UtteranceShape.Incomplete)]
    [InlineData("my favourite colour is", UtteranceShape.Incomplete)]
    public void Classifies_transcripts(string text, UtteranceShape expected) =>
        Assert.Equal(expected, UtteranceClassifier.Classify(text));

    [Fact]
    public void Questions_yield_sooner_than_statements_and_fragments_wait_longest_at_every_patience()
    {
        TimeSpan previousStatement = TimeSpan.Zero;
        foreach (var patience in Enum.GetValues<TurnTakingPatience>())
        {
            var o = new TurnTakingOptions { Patience = patience };
            Assert.True(o.RequiredSilence(UtteranceShape.Question) < o.RequiredSilence(UtteranceShape.Statement));
            Assert.True(o.RequiredSilence(UtteranceShape.Statement) < o.RequiredSilence(UtteranceShape.Unknown));
            Assert.True(o.RequiredSilence(UtteranceShape.Unknown) < o.RequiredSilence(UtteranceShape.Incomplete));
            Assert.True(o.RequiredSilence(UtteranceShape.Statement) > previousStatement);
            previousStatement = o.RequiredSilence(UtteranceShape.Statement);
        }
    }

    [Fact]
    public void Pause_speculates_resumption_discards_and_silence_commits_the_floor_in_media_time()
    {
        var taker = new TurnTaker(new TurnTakingOptions { Patience = TurnTakingPatience.Medium });
        var frames = new Frames();
        var d = new List<TurnDecision>();
        d.AddRange(frames.Silence(taker, 5));
        d.AddRange(frames.Speech(taker, 20));
        taker.OnTranscript("i want to");
        d.AddRange(frames.Silence(taker, 40)); // 1280 ms: incomplete waits 2000 ms
        d.AddRange(frames.Speech(taker, 15));
        taker.OnTranscript("i want to book a table");
        d.AddRange(frames.Silence(taker, 20));

        Assert.Equal(
            [TurnSignal.UserStartedSpeaking, TurnSignal.UserPaused, TurnSignal.UserResumed, TurnSignal.UserPaused, TurnSignal.FloorYielded],
            d.Select(x => x.Signal).ToArray());
        var yielded = d[^1];
        Assert.Equal(UtteranceShape.Statement, yielded.Shape);
        Assert.InRange(yielded.At - yielded.SpeechEnd, TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(250 + 32));
    }

    [Theory]
    [InlineData(ReplicaInterruptibility.High, "", 7)]      // 200 ms of any speech
    [InlineData(ReplicaInterruptibility.Medium, "wait", 16)] // 500 ms with a word
    [InlineData(ReplicaInterruptibility.Low, "wait stop", 32)] // 1000 ms with two words
    public void Barge_in_needs_more_speech_the_less_interruptible_the_replica(ReplicaInterruptibility level, string words, int framesNeeded)
    {
        var taker = new TurnTaker(new TurnTakingOptions { Interruptibility = level });
        var frames = new Frames();
        taker.ReplicaStartedSpeaking();
        taker.OnTranscript(words);
        var bargeAt = -1;
        for (var i = 0; i < 80 && bargeAt < 0; i++)
            if (frames.Speech(taker, 1).Any(x => x.Signal == TurnSignal.BargeIn)) bargeAt = i + 1;
        Assert.InRange(bargeAt, framesNeeded - 1, framesNeeded + 1);
        Assert.False(taker.ReplicaSpeaking);
    }

    [Theory]
    [InlineData(ReplicaInterruptibility.Low)]
    [InlineData(ReplicaInterruptibility.Medium)]
    public void Backchannels_do_not_interrupt_unless_the_replica_is_highly_interruptible(ReplicaInterruptibility level)
    {
        var taker = new TurnTaker(new TurnTakingOptions { Interruptibility = level });
        var frames = new Frames();
        taker.ReplicaStartedSpeaking();
        taker.OnTranscript("yeah uh huh");
        Assert.DoesNotContain(frames.Speech(taker, 25), x => x.Signal == TurnSignal.BargeIn); // 800 ms of "yeah uh huh"
        Assert.True(taker.ReplicaSpeaking);
    }

    /// <summary>Synthetic VAD frames (32 ms) with the detector's hysteresis reproduced, for rule tests.</summary>
    private sealed class Frames
    {
        private TimeSpan _t;
        private bool _inSpeech;
        private TimeSpan _lastVoiced;
        private int _silent;

        public List<TurnDecision> Speech(TurnTaker taker, int count) => Run(taker, count, true);

        public List<TurnDecision> Silence(TurnTaker taker, int count) => Run(taker, count, false);

        private List<TurnDecision> Run(TurnTaker taker, int count, bool voiced)
        {
            var result = new List<TurnDecision>();
            for (var i = 0; i < count; i++)
            {
                var end = _t + SileroVadModel.FrameDuration;
                var evt = VadEventKind.None;
                var evtTime = TimeSpan.Zero;
                if (voiced)
                {
                    if (!_inSpeech)
                    {
                        _inSpeech = true;
                        evt = VadEventKind.SpeechStarted;
                        evtTime = _t;
                    }
                    _lastVoiced = end;
                    _silent = 0;
                }
                else if (_inSpeech && ++_silent == 3)
                {
                    _inSpeech = false;
                    evt = VadEventKind.SpeechEnded;
                    evtTime = _lastVoiced;
                }
                result.AddRange(taker.OnVadFrame(new VadFrame(_t, voiced ? 0.9f : 0.05f, _inSpeech, evt, evtTime, _lastVoiced)));
                _t = end;
            }
            return result;
        }
    }
}
