using System.Diagnostics;
using Platform.Render.Speech.PocketSphinx;
using Xunit.Abstractions;

namespace Platform.Render.Tests.Speech;

public sealed class AsrWordErrorRateTests(ITestOutputHelper output)
{
    [Fact]
    public async Task PocketSphinx_stock_model_transcribes_three_non_avatar_Flite_voices_under_ten_percent_WER()
    {
        TestSpeech.RequireSpeechStack();
        Assert.True(Sentences.All.Length >= 50);
        // The default (real-time) search profile: one forward pass, as a live conversation runs it.
        var recognizer = new PocketSphinxRecognizer();
        var clock = Stopwatch.StartNew();

        // One decoder per voice, voices in parallel (decoders are not thread-safe; each task owns one).
        var perVoice = await Task.WhenAll(TestSpeech.UserVoices.Select(voice => Task.Run(() =>
        {
            using var stream = recognizer.Open(out var error);
            Assert.True(stream is not null, error?.ToString());
            int errors = 0, words = 0;
            var worst = new List<string>();
            foreach (var sentence in Sentences.All)
            {
                var audio = TestSpeech.Concat(TestSpeech.Silence(TimeSpan.FromMilliseconds(100)), TestSpeech.Say(sentence, voice),
                    TestSpeech.Silence(TimeSpan.FromMilliseconds(100)));
                stream.BeginUtterance(TimeSpan.Zero);
                for (var i = 0; i < audio.Length; i += 1600) stream.Accept(audio.AsSpan(i, Math.Min(1600, audio.Length - i)));
                var result = stream.EndUtterance();
                Assert.True(result.Ok, result.Error?.ToString());
                var length = TimeSpan.FromSeconds(audio.Length / 16_000.0);
                Assert.All(result.Transcript.Words, w => Assert.True(w.Start >= TimeSpan.Zero && w.End <= length + TimeSpan.FromMilliseconds(20) && w.Start < w.End,
                    $"word '{w.Word}' at {w.Start}-{w.End} outside the {length} utterance"));
                var reference = WordErrorRate.Words(sentence);
                var hypothesis = WordErrorRate.Words(result.Transcript.Text);
                var d = WordErrorRate.Distance(reference, hypothesis);
                errors += d;
                words += reference.Length;
                if (d > 0) worst.Add($"  [{voice}] {d} err: \"{sentence}\" -> \"{result.Transcript.Text}\"");
            }
            return (voice, errors, words, worst);
        })));

        var totalErrors = perVoice.Sum(v => v.errors);
        var totalWords = perVoice.Sum(v => v.words);
        foreach (var v in perVoice)
            output.WriteLine($"WER flite/{v.voice}: {100.0 * v.errors / v.words:F1}% ({v.errors}/{v.words} words, {Sentences.All.Length} sentences)");
        var wer = (double)totalErrors / totalWords;
        output.WriteLine($"WER overall: {100 * wer:F1}% ({totalErrors}/{totalWords}) in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var line in perVoice.SelectMany(v => v.worst)) output.WriteLine(line);
        Console.WriteLine($"[Platform.Render.Tests] ASR WER overall {100 * wer:F1}% over {perVoice.Length} voices x {Sentences.All.Length} sentences");
        Assert.True(wer <= 0.10, $"WER {100 * wer:F1}% > 10%");
    }

    [Fact]
    public void Word_error_rate_counts_substitutions_insertions_and_deletions()
    {
        Assert.Equal(0, WordErrorRate.Distance(["a", "b"], ["a", "b"]));
        Assert.Equal(1, WordErrorRate.Distance(["a", "b", "c"], ["a", "x", "c"]));
        Assert.Equal(1, WordErrorRate.Distance(["a", "b", "c"], ["a", "c"]));
        Assert.Equal(2, WordErrorRate.Distance(["a"], ["x", "a", "y"]));
        Assert.Equal(3, WordErrorRate.Distance(["a", "b", "c"], []));
        Assert.Equal(["it's", "a", "test"], WordErrorRate.Words("It's a TEST!"));
    }
}
