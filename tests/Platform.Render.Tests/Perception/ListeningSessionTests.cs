using Platform.Render.Audio;
using Platform.Render.Perception;
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
