using System.Diagnostics;
using Platform.Render.Audio;
using Platform.Render.Perception;
using Platform.Render.Speech;
using Platform.Render.Speech.Flite;
using Platform.Render.Speech.PocketSphinx;

namespace Platform.Bench.Speech;

internal static class SpeechBench
{
    private static readonly string[] UserLines =
    [
        "Hello, I would like to book a table for two people tonight.",
        "What time does the train to the airport leave?",
        "Can you tell me more about your opening hours?",
        "I forgot my password and cannot log in.",
        "The weather is very nice today, so we are going to the park.",
        "How much does the premium plan cost per month?",
        "Please send me the report by Friday morning.",
        "My phone battery is almost empty, can I charge it here?",
    ];

    private static readonly string[] ReplyClauses =
    [
        "Sure, I can help with that.",
        "Our store opens at nine in the morning.",
        "That plan costs twenty dollars a month.",
        "Let me check the schedule for you.",
        "I am sorry to hear that.",
        "Would you like me to send it again?",
    ];

    public static int Run(int utterances)
    {
        if (!FliteSynthesizer.IsAvailable(out var fliteReason) || !PocketSphinxRecognizer.IsAvailable(out var psReason))
        {
            Console.Error.WriteLine("speech stack missing: run infra/install.sh");
            return 1;
        }
        Console.WriteLine($"Platform.Bench.Speech on {Environment.ProcessorCount} cores, {utterances} utterances (user voice flite/rms)");

        var userVoice = new FliteSynthesizer("rms");
        var speech = Enumerable.Range(0, utterances).Select(i =>
        {
            var r = userVoice.Synthesize(UserLines[i % UserLines.Length]);
            return (Text: r.Text, Audio: r.Audio);
        }).ToList();

        BenchVad(speech.Select(s => s.Audio).ToList());
        BenchAsr(speech);
        BenchTts(utterances);
        return 0;
    }

    private static void BenchVad(List<short[]> audio)
    {
        var load = Stopwatch.StartNew();
        using var model = new SileroVadModel();
        load.Stop();
        using var stream = model.CreateStream();
        var times = new List<double>();
        var frame = new short[512];
        foreach (var a in audio)
        {
            for (var i = 0; i + 512 <= a.Length; i += 512)
            {
                a.AsSpan(i, 512).CopyTo(frame);
                var t = Stopwatch.GetTimestamp();
                stream.Process(frame);
                times.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            }
        }
        Print($"VAD per 32 ms frame ({times.Count} frames, model load {load.Elapsed.TotalMilliseconds:F0} ms)", times);
    }

    private static void BenchAsr(List<(string Text, short[] Audio)> speech)
    {
        var open = Stopwatch.StartNew();
        using var asr = new PocketSphinxRecognizer().Open(out var error) ?? throw new InvalidOperationException(error?.ToString());
        open.Stop();
        var finals = new List<double>();
        var rtf = new List<double>();
        var silence = new short[(int)(0.1 * 16_000)]; // the VAD's ~100 ms of silence before it calls the end
        foreach (var (_, audio) in speech)
        {
            asr.BeginUtterance(TimeSpan.Zero);
            var feed = Stopwatch.StartNew();
            for (var i = 0; i < audio.Length; i += 320) asr.Accept(audio.AsSpan(i, Math.Min(320, audio.Length - i)));
            asr.Accept(silence);
            feed.Stop();
            var t = Stopwatch.GetTimestamp();
            asr.EndUtterance();
            finals.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            rtf.Add(feed.Elapsed.TotalSeconds / (audio.Length / 16_000.0));
        }
        Print($"ASR final after end of speech (decoder init {open.Elapsed.TotalMilliseconds:F0} ms)", finals);
        Print("ASR real-time factor while the user talks", rtf, "");
    }

    private static void BenchTts(int count)
    {
        var tts = new FliteSynthesizer();
        tts.Synthesize("Warm up.");
        var first = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var reply = ReplyClauses[i % ReplyClauses.Length] + " " + ReplyClauses[(i + 1) % ReplyClauses.Length];
            var t = Stopwatch.GetTimestamp();
            var clause = ClauseSplitter.Split(reply).First();
            var result = tts.Synthesize(clause);
            first.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            if (!result.Ok) throw new InvalidOperationException(result.Error!.ToString());
        }
        Print("TTS time to first audio (first clause, flite/slt)", first);
    }

    private static void Print(string name, List<double> values, string unit = " ms")
    {
        values.Sort();
        double P(double q) => values[(int)Math.Min(values.Count - 1, Math.Ceiling(q * values.Count) - 1)];
        Console.WriteLine($"{name,-70} p50 {P(0.50),8:F3}{unit}  p95 {P(0.95),8:F3}{unit}  p99 {P(0.99),8:F3}{unit}");
    }
}
