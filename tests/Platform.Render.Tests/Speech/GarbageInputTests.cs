using Platform.Render.Audio;
using Platform.Render.Perception;
using Platform.Render.Speech;
using Platform.Render.Speech.Flite;
using Platform.Render.Speech.PocketSphinx;
using Platform.Render.Tests.Perception;
using Xunit.Abstractions;

namespace Platform.Render.Tests.Speech;

/// <summary>Bad input never throws out of a stage: it yields an error result or empty output.</summary>
[Collection(VadCollection.Name)]
public sealed class GarbageInputTests(VadFixture vad, ITestOutputHelper output)
{
    public static TheoryData<string> Garbage() => new() { "silence", "clipping", "wrong-rate", "empty", "odd-bytes", "noise" };

    private static (byte[] Bytes, AudioFormat Declared) Make(string kind)
    {
        var speech = TestSpeech.Say("The children are playing in the garden.", "rms");
        switch (kind)
        {
            case "silence": return (new byte[16_000 * 2 * 3], AudioFormat.Speech16k);
            case "clipping":
            {
                // Speech amplified 40x: a full-scale square-ish wave.
                var b = new byte[speech.Length * 2];
                for (var i = 0; i < speech.Length; i++)
                {
                    var v = (short)Math.Clamp(speech[i] * 40, short.MinValue, short.MaxValue);
                    (b[2 * i], b[2 * i + 1]) = ((byte)v, (byte)(v >> 8));
                }
                return (b, AudioFormat.Speech16k);
            }
            case "wrong-rate":
            {
                // 16 kHz speech declared as 44.1 kHz stereo.
                var b = new byte[speech.Length * 2];
                Buffer.BlockCopy(speech, 0, b, 0, b.Length);
                return (b, new AudioFormat(44_100, 2));
            }
            case "empty": return ([], AudioFormat.Speech16k);
            case "odd-bytes": return ([0x01, 0x02, 0x03], new AudioFormat(48_000, 2));
            default: return (TestSpeech.Noise(TimeSpan.FromSeconds(2), 0.9, 7).SelectMany(s => new[] { (byte)s, (byte)(s >> 8) }).ToArray(), new AudioFormat(22_050, 1));
        }
    }

    [Theory]
    [MemberData(nameof(Garbage))]
    public void Audio_input_VAD_and_ASR_survive_garbage(string kind)
    {
        TestSpeech.RequireSpeechStack();
        var (bytes, declared) = Make(kind);
        var input = new AudioInput(declared);
        using var detector = new VoiceActivityDetector(vad.Model);
        using var asr = new PocketSphinxRecognizer().Open(out var error);
        Assert.True(asr is not null, error?.ToString());

        asr.BeginUtterance(TimeSpan.Zero);
        var frames = 0;
        var rng = new Random(kind.Length);
        for (var pos = 0; pos < bytes.Length || pos == 0;)
        {
            var n = Math.Min(rng.Next(1, 3001), bytes.Length - pos);
            using var frame = input.Push(bytes.AsSpan(pos, n));
            pos += Math.Max(n, 1);
            if (frame is null) continue;
            frames += detector.Push(frame.Samples).Count;
            asr.Accept(frame.Samples);
        }
        asr.Accept([]);
        var result = asr.EndUtterance();
        Assert.True(result.Ok, result.Error?.ToString());
        output.WriteLine($"{kind}: {frames} VAD frames, ASR '{result.Transcript.Text}'");
        if (kind is "silence" or "empty" or "odd-bytes") Assert.True(result.Transcript.IsEmpty, result.Transcript.Text);
    }

    [Fact]
    public void Recogniser_calls_out_of_order_or_after_dispose_return_results()
    {
        TestSpeech.RequireSpeechStack();
        var asr = new PocketSphinxRecognizer().Open(out _)!;
        Assert.True(asr.EndUtterance().Transcript.IsEmpty);      // end without begin
        Assert.Null(asr.Accept(new short[100]));                // accept without begin starts an utterance
        Assert.True(asr.EndUtterance().Ok);
        asr.Dispose();
        asr.Dispose();
        Assert.Null(asr.Accept(new short[100]));
        Assert.Equal("asr_closed", asr.EndUtterance().Error?.Code);
    }

    [Fact]
    public void Missing_model_is_an_error_result()
    {
        var asr = new PocketSphinxRecognizer(new PocketSphinxOptions { ModelDirectory = "/nonexistent" }).Open(out var error);
        Assert.Null(asr);
        Assert.Equal("asr_unavailable", error?.Code);
        Assert.Equal("tts_unavailable", new FliteSynthesizer("nosuchvoice").Synthesize("Hello.").Error?.Code);
        Assert.Equal("tts_unavailable", new FliteSynthesizer("../etc").Synthesize("Hello.").Error?.Code);
    }

    [Fact]
    public void VAD_ignores_frames_of_the_wrong_length()
    {
        using var stream = vad.Model.CreateStream();
        Assert.Equal(0f, stream.Process(new short[100]));
        Assert.Equal(0f, stream.Process([]));
    }

    [Theory]
    [InlineData("🙂🙂🙂")]
    [InlineData("")]
    [InlineData("   \t\n ")]
    [InlineData("\0\u0001\u0002")]
    [InlineData("…—“”")]
    [InlineData("日本語のテキスト")]
    public void Unspeakable_text_is_an_error_result(string text)
    {
        TestSpeech.RequireSpeechStack();
        var result = new FliteSynthesizer().Synthesize(text);
        Assert.False(result.Ok);
        Assert.Equal("tts_unspeakable", result.Error!.Code);
        Assert.Empty(result.Audio);
        Assert.Empty(ClauseSplitter.Split(text));
    }

    [Theory]
    [InlineData("Café déjà vu 🙂 costs €5!")]
    [InlineData("!!!a???")]
    [InlineData("1234567890")]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")]
    [InlineData("<script>alert(1)</script>")]
    public void Odd_but_speakable_text_is_spoken(string text)
    {
        TestSpeech.RequireSpeechStack();
        var result = new FliteSynthesizer().Synthesize(text);
        Assert.True(result.Ok, result.Error?.ToString());
        Assert.NotEmpty(result.Audio);
    }

    [Fact]
    public async Task Ten_thousand_characters_are_refused_as_one_clause_and_split_into_speakable_clauses()
    {
        TestSpeech.RequireSpeechStack();
        var words = new[] { "hello", "world", "and", "then", "some", "more", "words", "without", "any", "punctuation" };
        var text = string.Join(' ', Enumerable.Range(0, 2_000).Select(i => words[i % words.Length]))[..10_000];
        using var tts = new FliteSynthesizer();

        var whole = await tts.SynthesizeAsync(text);
        Assert.Equal("tts_clause_too_long", whole.Error?.Code);

        var clauses = ClauseSplitter.Split(text).ToList();
        Assert.All(clauses, c => Assert.InRange(c.Length, 1, SpeakableText.MaxClauseChars));
        Assert.Equal(WordErrorRate.Words(text), clauses.SelectMany(WordErrorRate.Words).ToArray());

        var spoken = 0;
        await foreach (var clause in tts.SpeakAsync(text))
        {
            Assert.True(clause.Ok, clause.Error?.ToString());
            if (++spoken == 3) break; // the first clauses come out; the rest would follow as the replica speaks
        }
        Assert.Equal(3, spoken);
    }
}
