using Platform.Render.Face;
using Platform.Render.Speech;
using Platform.Render.Speech.Flite;
using Xunit.Abstractions;

namespace Platform.Render.Tests.Speech;

public sealed class FliteTtsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_clause_without_its_leading_silence_starts_20_ms_before_its_first_sound_with_its_phones_moved_along()
    {
        TestSpeech.RequireSpeechStack();
        using var tts = new FliteSynthesizer();
        var full = await tts.SynthesizeAsync("Sure, I can help with that.");
        var lead = TimeSpan.FromMilliseconds(20);
        var trimmed = full.WithoutLeadingSilence(lead);

        int FirstSound(short[] audio) => Array.FindIndex(audio, a => Math.Abs((int)a) > SynthesisResult.SilenceAmplitude);
        var cut = full.Audio.Length - trimmed.Audio.Length;
        output.WriteLine($"leading silence {FirstSound(full.Audio) / 16.0:F1} ms, cut {cut / 16.0:F1} ms");
        Assert.True(FirstSound(full.Audio) >= 16 * 80, "Flite opens a clause with a pause"); // what there is to gain
        Assert.Equal(320, FirstSound(trimmed.Audio)); // 20 ms at 16 kHz
        Assert.Equal(full.Audio[cut..], trimmed.Audio); // nothing else changed

        // Phones and visemes move with the audio: the voiced ones keep their place relative to the sound.
        var by = TimeSpan.FromTicks(cut * TimeSpan.TicksPerSecond / 16_000);
        var voiced = full.Phonemes.Where(p => p.Phone != "pau").ToList();
        Assert.Equal(voiced.Select(p => (p.Phone, p.Start - by, p.End - by)), trimmed.Phonemes.Where(p => p.Phone != "pau").Select(p => (p.Phone, p.Start, p.End)));
        Assert.Equal(TimeSpan.Zero, trimmed.Phonemes[0].Start);
        Assert.Equal(full.Visemes[^1].End - by, trimmed.Visemes[^1].End);

        // A clause that starts with sound is left as it is.
        Assert.Same(trimmed, trimmed.WithoutLeadingSilence(lead));
    }

    [Theory]
    [InlineData("Hello, my name is Anna.")]
    [InlineData("What would you like to talk about today?")]
    [InlineData("Please bring five apples.")]
    public async Task Audio_length_matches_the_phone_timeline_and_visemes_are_in_order(string text)
    {
        TestSpeech.RequireSpeechStack();
        using var tts = new FliteSynthesizer();
        var result = await tts.SynthesizeAsync(text);

        Assert.True(result.Ok, result.Error?.ToString());
        Assert.Equal(16_000, result.SampleRate);
        Assert.NotEmpty(result.Phonemes);
        var timelineEnd = result.Phonemes[^1].End;
        output.WriteLine($"'{text}': audio {result.Duration.TotalMilliseconds:F0} ms, phones end {timelineEnd.TotalMilliseconds:F0} ms, " +
                         $"{result.Phonemes.Count} phones, {result.Visemes.Count} visemes");
        Assert.True((result.Duration - timelineEnd).Duration() <= TimeSpan.FromMilliseconds(20),
            $"audio {result.Duration} vs phone timeline end {timelineEnd}");

        // Phones and visemes tile the clause from 0 without gaps or reversals.
        Assert.Equal(TimeSpan.Zero, result.Phonemes[0].Start);
        for (var i = 1; i < result.Visemes.Count; i++)
        {
            Assert.Equal(result.Visemes[i - 1].End, result.Visemes[i].Start);
            Assert.True(result.Visemes[i].End >= result.Visemes[i].Start);
            Assert.NotEqual(result.Visemes[i - 1].Viseme, result.Visemes[i].Viseme);
        }
        Assert.Equal(timelineEnd, result.Visemes[^1].End);
        Assert.Equal(Viseme.Silence, result.Visemes[0].Viseme);
        Assert.Equal(Viseme.Silence, result.Visemes[^1].Viseme);
        Assert.Contains(result.Visemes, v => v.Viseme is Viseme.AA or Viseme.EH or Viseme.OW or Viseme.IY);

        // The audio is quiet where the timeline says pause and loud in the middle of a vowel.
        var vowel = result.Visemes.Where(v => v.Viseme is Viseme.AA or Viseme.EH or Viseme.OW).MaxBy(v => v.End - v.Start)!;
        Assert.True(Rms(result, vowel.Start, vowel.End) > 10 * Rms(result, TimeSpan.Zero, result.Visemes[0].End) + 1e-4);
    }

    [Fact]
    public void Phones_map_to_the_visemes_a_lip_reader_expects()
    {
        Assert.Equal(Viseme.MBP, PhonemeVisemes.For("m"));
        Assert.Equal(Viseme.MBP, PhonemeVisemes.For("b"));
        Assert.Equal(Viseme.FV, PhonemeVisemes.For("v"));
        Assert.Equal(Viseme.AA, PhonemeVisemes.For("aa1"));
        Assert.Equal(Viseme.UW, PhonemeVisemes.For("uw"));
        Assert.Equal(Viseme.Silence, PhonemeVisemes.For("pau"));
        Assert.Equal(0f, PhonemeVisemes.Opening(Viseme.MBP));
        Assert.Equal(1f, PhonemeVisemes.Opening(Viseme.AA));
    }

    [Fact]
    public async Task Long_text_is_spoken_clause_by_clause()
    {
        TestSpeech.RequireSpeechStack();
        using var tts = new FliteSynthesizer();
        var text = "Sure, I can help with that. First, open the settings page; then choose your language. Is that clear?";
        var clauses = new List<SynthesisResult>();
        await foreach (var clause in tts.SpeakAsync(text)) clauses.Add(clause);
        Assert.True(clauses.Count >= 4, string.Join(" | ", clauses.Select(c => c.Text)));
        Assert.All(clauses, c => Assert.True(c.Ok && c.Audio.Length > 0, c.Error?.ToString()));
        Assert.Equal("Is that clear?", clauses[^1].Text);
    }

    private static double Rms(SynthesisResult r, TimeSpan from, TimeSpan to)
    {
        var a = (int)(from.TotalSeconds * r.SampleRate);
        var b = Math.Min(r.Audio.Length, (int)(to.TotalSeconds * r.SampleRate));
        if (b <= a) return 0;
        double sum = 0;
        for (var i = a; i < b; i++) sum += (r.Audio[i] / 32768.0) * (r.Audio[i] / 32768.0);
        return Math.Sqrt(sum / (b - a));
    }
}
