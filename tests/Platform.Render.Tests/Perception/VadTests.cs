using Platform.Render.Perception;
using Platform.Render.Tests.Speech;
using Xunit.Abstractions;

namespace Platform.Render.Tests.Perception;

[Collection(VadCollection.Name)]
public sealed class VadTests(VadFixture vad, ITestOutputHelper output)
{
    // Stated tolerance: onset and offset within 100 ms / 250 ms of the speech's energy bounds (media time).
    private static readonly TimeSpan OnsetTolerance = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan OffsetTolerance = TimeSpan.FromMilliseconds(250);

    [Theory]
    [InlineData("rms", "The meeting has been moved to next week.")]
    [InlineData("awb", "Could you please open the window?")]
    [InlineData("kal16", "I forgot my keys at home.")]
    public void Finds_onset_and_offset_of_speech_padded_with_silence(string voice, string text)
    {
        TestSpeech.RequireSpeechStack();
        var speech = TestSpeech.Say(text, voice);
        var lead = TimeSpan.FromMilliseconds(1200);
        var audio = TestSpeech.Concat(TestSpeech.Silence(lead), speech, TestSpeech.Silence(TimeSpan.FromMilliseconds(1500)));
        var (trueStart, trueEnd) = EnergyBounds(speech);
        trueStart += lead;
        trueEnd += lead;

        using var detector = new VoiceActivityDetector(vad.Model);
        var events = Run(detector, audio, chunk: 480);

        Assert.Equal([VadEventKind.SpeechStarted, VadEventKind.SpeechEnded], events.Select(e => e.Event).ToArray());
        var onset = events[0].EventTime;
        var offset = events[1].EventTime;
        output.WriteLine($"{voice}: truth {trueStart.TotalMilliseconds:F0}-{trueEnd.TotalMilliseconds:F0} ms, " +
                         $"VAD {onset.TotalMilliseconds:F0}-{offset.TotalMilliseconds:F0} ms, decided end at {events[1].FrameEnd.TotalMilliseconds:F0} ms");
        Assert.InRange(onset, trueStart - OnsetTolerance, trueStart + OnsetTolerance);
        Assert.InRange(offset, trueEnd - OffsetTolerance, trueEnd + OffsetTolerance);
        Assert.True(events[1].FrameEnd - offset <= TimeSpan.FromMilliseconds(200), "end of speech decided too late");
    }

    [Fact]
    public void Stays_quiet_on_silence_and_low_white_noise()
    {
        foreach (var (name, audio) in new[]
                 {
                     ("digital silence", TestSpeech.Silence(TimeSpan.FromSeconds(5))),
                     ("white noise -46 dBFS", TestSpeech.Noise(TimeSpan.FromSeconds(5), 0.005, 1)),
                     ("white noise -36 dBFS", TestSpeech.Noise(TimeSpan.FromSeconds(5), 0.016, 2)),
                 })
        {
            using var detector = new VoiceActivityDetector(vad.Model);
            var frames = new List<VadFrame>();
            for (var i = 0; i < audio.Length; i += 320) frames.AddRange(detector.Push(audio.AsSpan(i, Math.Min(320, audio.Length - i))));
            output.WriteLine($"{name}: max p = {frames.Max(f => f.Probability):F3}");
            Assert.Equal(audio.Length / 512, frames.Count);
            Assert.DoesNotContain(frames, f => f.Event != VadEventKind.None);
        }
    }

    [Fact]
    public void Streams_keep_separate_state_on_a_shared_model()
    {
        TestSpeech.RequireSpeechStack();
        var speech = TestSpeech.Concat(TestSpeech.Silence(TimeSpan.FromMilliseconds(500)), TestSpeech.Say("Thank you very much for your help.", "rms"));
        var noise = TestSpeech.Noise(TimeSpan.FromSeconds(10), 0.2, 3);

        using var alone = new VoiceActivityDetector(vad.Model);
        var expected = alone.Push(speech).Select(f => f.Probability).ToArray();

        using var a = new VoiceActivityDetector(vad.Model);
        using var b = new VoiceActivityDetector(vad.Model);
        var interleaved = new List<float>();
        for (var i = 0; i + 512 <= speech.Length; i += 512)
        {
            interleaved.AddRange(a.Push(speech.AsSpan(i, 512)).Select(f => f.Probability));
            b.Push(noise.AsSpan(i % (noise.Length - 512), 512)); // another conversation on the same session
        }
        Assert.Contains(expected, p => p > 0.8f);
        Assert.Equal(expected, interleaved.ToArray());
    }

    internal static List<VadFrame> Run(VoiceActivityDetector detector, short[] audio, int chunk)
    {
        var events = new List<VadFrame>();
        for (var i = 0; i < audio.Length; i += chunk)
            events.AddRange(detector.Push(audio.AsSpan(i, Math.Min(chunk, audio.Length - i))).Where(f => f.Event != VadEventKind.None));
        return events;
    }

    /// <summary>First and last 10 ms window above -40 dBFS.</summary>
    internal static (TimeSpan Start, TimeSpan End) EnergyBounds(short[] s)
    {
        const int w = 160;
        int first = -1, last = -1;
        for (var i = 0; i + w <= s.Length; i += w)
        {
            double sum = 0;
            for (var j = 0; j < w; j++) sum += (s[i + j] / 32768.0) * (s[i + j] / 32768.0);
            if (Math.Sqrt(sum / w) > 0.01)
            {
                if (first < 0) first = i;
                last = i + w;
            }
        }
        return (TimeSpan.FromSeconds(first / 16_000.0), TimeSpan.FromSeconds(last / 16_000.0));
    }
}
