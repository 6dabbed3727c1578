using Platform.Render.Audio;
using Platform.Render.Perception;
using Platform.Render.Speech;
using Platform.Render.Speech.PocketSphinx;
using Platform.Render.Tests.Speech;
using Xunit.Abstractions;

namespace Platform.Render.Tests.Perception;

[Collection(VadCollection.Name)]
public sealed class ListeningSessionTests(VadFixture vad, ITestOutputHelper output)
{
    [Fact]
    public async Task Client_audio_at_44k_stereo_becomes_a_user_turn_with_a_floor_decision_in_media_time()
    {
        TestSpeech.RequireSpeechStack();
        const string said = "Can you tell me where the station is?";
        var speech = TestSpeech.Say(said, "rms");
        // A first short turn lets the decoder's live cepstral mean adapt to the voice, as in any conversation.
        var greeting = TestSpeech.Concat(TestSpeech.Silence(TimeSpan.FromMilliseconds(300)), TestSpeech.Say("Hello, nice to meet you.", "rms"),
            TestSpeech.Silence(TimeSpan.FromSeconds(1.5)));
        var lead = TimeSpan.FromSeconds(greeting.Length / 16_000.0 + 0.6);
        var audio16 = TestSpeech.Concat(greeting, TestSpeech.Silence(TimeSpan.FromMilliseconds(600)), speech, TestSpeech.Silence(TimeSpan.FromSeconds(2)));
        var (s, e) = VadTests.EnergyBounds(speech);
        var trueEnd = lead + e;
        var bytes = ToStereoBytes(new Resampler(16_000, 44_100).Process(audio16));

        var asr = new PocketSphinxRecognizer().Open(out var error);
        Assert.True(asr is not null, error?.ToString());
        await using var session = new ListeningSession(new AudioFormat(44_100, 2), vad.Model, asr);
        var events = new List<PerceptionEvent>();
        for (var i = 0; i < bytes.Length; i += 1764) // 10 ms packets
            events.AddRange(await session.PushAsync(bytes.AsMemory(i, Math.Min(1764, bytes.Length - i))));

        var turns = events.Where(x => x.Kind == PerceptionEventKind.Turn).Select(x => x.Decision!.Signal).ToArray();
        TurnSignal[] oneTurn = [TurnSignal.UserStartedSpeaking, TurnSignal.UserPaused, TurnSignal.FloorYielded];
        Assert.Equal([.. oneTurn, .. oneTurn], turns);
        Assert.Contains(events, x => x.Kind == PerceptionEventKind.Partial);
        var finals = events.Where(x => x.Kind == PerceptionEventKind.UserTurnFinal).ToList();
        Assert.Equal(2, finals.Count);
        output.WriteLine($"first turn: '{finals[0].Text}'");
        var final = finals[1];
        events = events.SkipWhile(x => x != finals[0]).Skip(1).ToList();
        output.WriteLine($"heard '{final.Text}', floor at {final.At.TotalMilliseconds:F0} ms, speech energy ended at {trueEnd.TotalMilliseconds:F0} ms");
        output.WriteLine("words: " + string.Join(", ", final.Words!.Select(w => $"{w.Word} {w.Start.TotalMilliseconds:F0}-{w.End.TotalMilliseconds:F0}")));
        Assert.True(WordErrorRate.Distance(WordErrorRate.Words(said), WordErrorRate.Words(final.Text)) <= 1, final.Text);
        // The floor follows the shape of what was heard, and waits the silence that shape needs. Heard exactly, it is
        // a question (it yields soonest); PocketSphinx on some CPUs hears the question's rising tail as a trailing
        // "so" (one word off), an unfinished sentence the floor rightly waits longer for.
        var shape = UtteranceClassifier.Classify(final.Text);
        Assert.Equal(shape, final.Decision!.Shape);
        if (WordErrorRate.Distance(WordErrorRate.Words(said), WordErrorRate.Words(final.Text)) == 0) Assert.Equal(UtteranceShape.Question, shape);
        Assert.InRange(final.At - trueEnd, TimeSpan.Zero, new TurnTakingOptions().RequiredSilence(shape) + TimeSpan.FromMilliseconds(350));
        Assert.NotEmpty(final.Words!);
        Assert.All(final.Words!, w => Assert.InRange(w.Start, lead + s - TimeSpan.FromMilliseconds(200), trueEnd + TimeSpan.FromMilliseconds(200)));
        var started = events.First(x => x.Kind == PerceptionEventKind.Turn).At;
        Assert.InRange(started, lead + s - TimeSpan.FromMilliseconds(100), lead + s + TimeSpan.FromMilliseconds(100));
    }

    [Fact]
    public async Task User_speech_over_the_replica_barges_in()
    {
        TestSpeech.RequireSpeechStack();
        var audio = TestSpeech.Concat(TestSpeech.Silence(TimeSpan.FromMilliseconds(300)), TestSpeech.Say("Stop, I have another question about my booking.", "rms"));
        var asr = new PocketSphinxRecognizer().Open(out _)!;
        await using var session = new ListeningSession(AudioFormat.Speech16k, vad.Model, asr,
            new TurnTakingOptions { Interruptibility = ReplicaInterruptibility.Medium });
        session.Turns.ReplicaStartedSpeaking();
        var events = new List<PerceptionEvent>();
        for (var i = 0; i < audio.Length; i += 320) events.AddRange(await session.PushSpeechAsync(audio.AsMemory(i, Math.Min(320, audio.Length - i))));
        var barge = Assert.Single(events, x => x.Decision?.Signal == TurnSignal.BargeIn);
        output.WriteLine($"barge-in at {barge.At.TotalMilliseconds:F0} ms, user speech from {barge.Decision!.SpeechEnd.TotalMilliseconds:F0} ms");
        Assert.InRange(barge.At - barge.Decision.SpeechEnd, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1200));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_word_the_recogniser_makes_out_of_the_closing_silence_neither_ends_the_sentence_nor_reaches_the_transcript(bool afterSpeech)
    {
        // The recogniser hears "…a ticket to": with the "to" in the silence the VAD closed the utterance on, it is left
        // out and the question yields the floor soon; with the "to" inside the voiced audio (the control) the sentence
        // is unfinished and the floor waits for the rest.
        TestSpeech.RequireSpeechStack();
        var speech = TestSpeech.Say("Where can I buy a ticket?", "rms");
        var audio = TestSpeech.Concat(TestSpeech.Silence(TimeSpan.FromMilliseconds(500)), speech, TestSpeech.Silence(TimeSpan.FromSeconds(3)));
        var asr = new ScriptedRecognizer(["where", "can", "i", "buy", "a", "ticket", "to"], afterSpeech);
        await using var session = new ListeningSession(AudioFormat.Speech16k, vad.Model, asr);
        var events = new List<PerceptionEvent>();
        var bytes = new byte[audio.Length * 2];
        Buffer.BlockCopy(audio, 0, bytes, 0, bytes.Length);
        for (var i = 0; i < bytes.Length; i += 320) // 10 ms packets
            events.AddRange(await session.PushAsync(bytes.AsMemory(i, Math.Min(320, bytes.Length - i))));

        Assert.Equal(1, asr.Utterances);
        var final = Assert.Single(events, x => x.Kind == PerceptionEventKind.UserTurnFinal);
        var decision = final.Decision!;
        output.WriteLine($"heard '{final.Text}' ({decision.Shape}); floor {(final.At - decision.SpeechEnd).TotalMilliseconds:F0} ms after the speech end");
        if (afterSpeech)
        {
            Assert.Equal("where can i buy a ticket", final.Text);
            Assert.Equal(["where", "can", "i", "buy", "a", "ticket"], final.Words!.Select(w => w.Word));
            Assert.NotEqual(UtteranceShape.Incomplete, decision.Shape);
            Assert.True(final.At - decision.SpeechEnd < TimeSpan.FromMilliseconds(500), "the floor came soon");
        }
        else
        {
            Assert.Equal("where can i buy a ticket to", final.Text);
            Assert.Equal(UtteranceShape.Incomplete, decision.Shape);
            Assert.True(final.At - decision.SpeechEnd >= new TurnTakingOptions().RequiredSilence(UtteranceShape.Incomplete), "the floor waited for the rest");
        }
    }

    [Fact]
    public void Trailing_words_after_the_speech_end_are_dropped_but_never_the_last_one_nor_from_a_text_that_differs()
    {
        static WordTiming W(string w, int start) => new(w, TimeSpan.FromMilliseconds(start), TimeSpan.FromMilliseconds(start + 50));
        var end = TimeSpan.FromMilliseconds(1_000);
        var t = new Transcript("book it for", [W("book", 600), W("it", 800), W("for", 1_010)], true);
        Assert.Equal("book it", ListeningSession.WithoutWordsAfter(t, end).Text);
        Assert.Equal(2, ListeningSession.WithoutWordsAfter(t, end).Words.Count);
        Assert.Same(t, ListeningSession.WithoutWordsAfter(t, TimeSpan.FromMilliseconds(1_020))); // all inside the speech

        var alone = new Transcript("yes", [W("yes", 1_010)], true);
        Assert.Equal("yes", ListeningSession.WithoutWordsAfter(alone, end).Text);
        var differs = new Transcript("book it for me", [W("book", 600), W("it", 800), W("for", 1_010)], true);
        Assert.Same(differs, ListeningSession.WithoutWordsAfter(differs, end));
        var untimed = new Transcript("book it for", [], true);
        Assert.Same(untimed, ListeningSession.WithoutWordsAfter(untimed, end));
    }

    /// <summary>
    /// A recogniser that hears a fixed sentence: its words spread over the utterance's audio up to 250 ms before the
    /// end of what it was fed, then one more word either in the VAD's closing silence (the last 60 ms it was fed) or
    /// inside the voiced audio.
    /// </summary>
    private sealed class ScriptedRecognizer(string[] words, bool lastAfterSpeech) : IRecognitionStream
    {
        private TimeSpan _start;
        private long _fed;

        public int Utterances { get; private set; }

        public void BeginUtterance(TimeSpan mediaStart) => (_start, _fed) = (mediaStart, 0);

        public ValueTask<Transcript?> AcceptAsync(ReadOnlyMemory<short> pcm16k, CancellationToken cancellationToken = default)
        {
            _fed += pcm16k.Length;
            return new((Transcript?)null);
        }

        public ValueTask<RecognitionResult> EndUtteranceAsync(CancellationToken cancellationToken = default)
        {
            Utterances++;
            var end = _start + MediaTime.FromSamples(_fed, 16_000);
            var first = _start + TimeSpan.FromMilliseconds(250);
            var voicedEnd = end - TimeSpan.FromMilliseconds(250);
            var step = (voicedEnd - first) / (words.Length - 1);
            var timed = words[..^1].Select((w, i) => new WordTiming(w, first + step * i, first + step * (i + 1))).ToList();
            var lastStart = lastAfterSpeech ? end - TimeSpan.FromMilliseconds(60) : voicedEnd;
            timed.Add(new WordTiming(words[^1], lastStart, lastStart + TimeSpan.FromMilliseconds(50)));
            return new(new RecognitionResult(new Transcript(string.Join(' ', words), timed, true)));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static byte[] ToStereoBytes(short[] mono)
    {
        var bytes = new byte[mono.Length * 4];
        for (var i = 0; i < mono.Length; i++)
        {
            var (lo, hi) = ((byte)mono[i], (byte)(mono[i] >> 8));
            (bytes[4 * i], bytes[4 * i + 1], bytes[4 * i + 2], bytes[4 * i + 3]) = (lo, hi, lo, hi);
        }
        return bytes;
    }
}
