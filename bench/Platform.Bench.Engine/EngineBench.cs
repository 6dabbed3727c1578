using System.Collections.Concurrent;
using System.Diagnostics;
using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Perception;
using Platform.Render.Sessions;
using Platform.Render.Speech.Flite;
using Platform.Render.Speech.PocketSphinx;
using Platform.Render.Thinking;
using Platform.Render.Video;
using Platform.Testing.OpenAi;

namespace Platform.Bench.Engine;

internal sealed record EngineBenchOptions(int Sessions, int Turns, int Width, int Height, bool Encode, int BitrateKbps, int CpuUsed, string? Mp4, int LeadMs)
{
    public static EngineBenchOptions Parse(string[] args)
    {
        int Get(string name, int fallback)
        {
            var i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
        }

        var mp4 = Array.IndexOf(args, "--mp4") is var m and >= 0 && m + 1 < args.Length ? Path.GetFullPath(args[m + 1]) : null;
        return new EngineBenchOptions(Get("--sessions", 4), Get("--turns", 4), Get("--width", 1280), Get("--height", 720),
            !args.Contains("--no-encode"), Get("--bitrate", 2000), Get("--cpu-used", -12), mp4,
            Get("--lead", (int)OutputPacer.DefaultLead.TotalMilliseconds));
    }
}

/// <summary>
/// Plays a scripted conversation (Flite user turns, some with a pause mid-sentence) into N concurrent sessions in
/// real time against the local OpenAI-compatible server (first token 200 ms, then 30 tokens/s), and prints latency
/// percentiles from the ground-truth end of speech, frame intervals, CPU per session and peak memory.
/// </summary>
internal static class EngineBench
{
    private static readonly (string First, string? Then)[] Script =
    [
        ("What time does the next train leave?", null),
        ("I would like to book a table for two", "at eight tonight please."),
        ("Is there a pharmacy near the station?", null),
        ("Could you tell me about the museum", "and when it opens tomorrow?"),
        ("Thank you very much for your help.", null),
        ("Where can I buy a ticket?", null),
    ];

    public static async Task<int> RunAsync(EngineBenchOptions options)
    {
        if (!FliteSynthesizer.IsAvailable(out var flite) || !PocketSphinxRecognizer.IsAvailable(out flite))
        {
            Console.Error.WriteLine($"speech stack missing: {flite}");
            return 2;
        }

        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 4 * options.Sessions + 8), io);
        await using var server = await OpenAiChatServer.StartAsync(OpenAiChatServerOptions.Benchmark());
        using var vad = new SileroVadModel();
        using var recognizer = new PocketSphinxRecognizer();
        using var synthesizer = new FliteSynthesizer();
        using var face = FaceAsset.Create(StockLooks.Anna);
        var resources = new SessionResources(vad, recognizer, synthesizer, face);

        // User speech, made before the clock starts: (audio, ground-truth end of speech within it).
        using var userVoice = new FliteSynthesizer("rms");
        var turns = Enumerable.Range(0, options.Turns).Select(i => MakeTurn(userVoice, Script[i % Script.Length])).ToList();
        Console.WriteLine($"{options.Sessions} session(s) × {options.Turns} turns at {options.Width}×{options.Height} 30 fps, LLM: first token 200 ms then 30 tokens/s");

        if (options.Encode && !Vp8Encoder.IsAvailable(out var vpx))
        {
            Console.Error.WriteLine(vpx);
            return 2;
        }

        Console.WriteLine(options.Encode
            ? $"video: VP8 {options.BitrateKbps} kbit/s CBR, cpu-used {options.CpuUsed}, 1 thread per session, encoded on each session's sender task, " +
                (options.LeadMs > 0 ? $"sent paced with a {options.LeadMs} ms lead" : "sent as soon as encoded (unpaced)")
            : "video: not encoded (--no-encode)");
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        using var sender = new PacedSender(TimeProvider.System);
        var results = await Task.WhenAll(Enumerable.Range(0, options.Sessions).Select(i => RunSessionAsync(i, resources, server, options, turns, sender)));
        wall.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;

        var response = results.SelectMany(r => r.Response).ToList();
        var floor = results.SelectMany(r => r.Floor).ToList();
        var intervals = results.SelectMany(r => r.FrameIntervals).ToList();
        var encode = results.SelectMany(r => r.EncodeTimes).ToList();
        var missed = results.Sum(r => r.MissedTurns);
        var mediaSeconds = results.Sum(r => r.MediaSeconds);
        Console.WriteLine($"turns answered: {response.Count} of {options.Sessions * options.Turns}{(missed > 0 ? $" ({missed} unanswered)" : "")}");
        Print("response latency (end of speech → first replica audio)", response);
        Print("  to the first loud audio (end of the first 20 ms frame with a 10 ms window over RMS 300, as the browser bench hears it)", results.SelectMany(r => r.Loud).ToList());
        Print("floor decision (end of speech → floor)", floor);
        Print("  LLM first token (end of speech → first token)", results.SelectMany(r => r.FirstToken).ToList());
        Console.WriteLine($"speculations: started {results.Sum(r => r.Speculations.Started)}, discarded {results.Sum(r => r.Speculations.Discarded)}; replica cut by the user: {results.Sum(r => r.Interruptions)}");
        Print(options.Encode ? "frame interval (wall clock, encoded frame out of the sink)" : "frame interval (wall clock at the sink)", intervals);
        if (options.Encode)
        {
            Print("VP8 encode per frame (wall clock)", encode);
            var kbps = results.Sum(r => r.EncodedBytes) * 8.0 / 1000 / Math.Max(1e-9, mediaSeconds);
            Console.WriteLine($"VP8 output: {kbps:F0} kbit/s per session, {results.Sum(r => r.Keyframes)} key frames");
        }

        Console.WriteLine($"frames: {results.Sum(r => r.Frames)}, dropped: {results.Sum(r => r.Dropped)}");
        Console.WriteLine($"CPU per session: {cpu.TotalSeconds / mediaSeconds * 100:F0}% of one core (process CPU {cpu.TotalSeconds:F1} s / {mediaSeconds:F1} media seconds over {options.Sessions} session(s); wall {wall.Elapsed.TotalSeconds:F1} s, {Environment.ProcessorCount} cores, load average {LoadAverage()})");
        Console.WriteLine($"peak memory: {process.PeakWorkingSet64 / (1024 * 1024)} MiB (peak working set)");
        if (options.Mp4 is { } mp4 && results[0].Recording is { } recording)
        {
            using (recording)
            {
                Console.WriteLine(await recording.WriteMp4Async(mp4));
            }
        }

        return 0;
    }

    private static (short[] Audio, TimeSpan SpeechEnd) MakeTurn(FliteSynthesizer voice, (string First, string? Then) line)
    {
        short[] Say(string text)
        {
            var r = voice.Synthesize(text);
            return r.SampleRate == 16_000 ? r.Audio : new Resampler(r.SampleRate, 16_000).Process(r.Audio);
        }

        var first = Trim(Say(line.First));
        var parts = new List<short> { };
        parts.AddRange(first);
        if (line.Then is { } rest)
        {
            parts.AddRange(new short[(int)(0.45 * 16_000)]); // a pause mid-sentence
            parts.AddRange(Trim(Say(rest)));
        }

        var end = MediaTime.FromSamples(parts.Count, 16_000);
        parts.AddRange(new short[16_000 / 5]);
        return ([.. parts], end);
    }

    /// <summary>Cuts leading and trailing silence so the ground-truth end is the last loud 10 ms.</summary>
    private static short[] Trim(short[] s)
    {
        const int w = 160;
        int first = -1, last = -1;
        for (var i = 0; i + w <= s.Length; i += w)
        {
            double sum = 0;
            for (var j = i; j < i + w; j++)
            {
                sum += (double)s[j] * s[j];
            }

            if (Math.Sqrt(sum / w) > 300)
            {
                if (first < 0)
                {
                    first = i;
                }

                last = i + w;
            }
        }

        return first < 0 ? s : s[first..last];
    }

    private sealed record SessionResult(List<double> Response, List<double> Loud, List<double> Floor, List<double> FrameIntervals, int Frames, int Dropped, int MissedTurns,
        double MediaSeconds, List<double> EncodeTimes, long EncodedBytes, long Keyframes, Recording? Recording,
        List<double> FirstToken, (int Started, int Discarded) Speculations, int Interruptions);

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static async Task<SessionResult> RunSessionAsync(int index, SessionResources resources, OpenAiChatServer server, EngineBenchOptions options, List<(short[] Audio, TimeSpan SpeechEnd)> turns, PacedSender sender)
    {
        var recording = index == 0 && options.Mp4 is not null && options.Encode ? new Recording(options.Width, options.Height) : null;
        using var sink = new BenchSink(options.Encode ? new Vp8Encoder(options.Width, options.Height, 30, new Vp8EncoderOptions { BitrateKbps = options.BitrateKbps, CpuUsed = options.CpuUsed }) : null, recording,
            options.LeadMs > 0 ? new OutputPacer(TimeProvider.System, TimeSpan.FromMilliseconds(options.LeadMs)) : null, sender);
        var sessionOptions = new SessionOptions { Width = options.Width, Height = options.Height, Seed = index + 1 };
        await using var session = new ConversationSession(resources, sessionOptions, sink,
            new LlmSettings("bench-model", BaseUrl: server.BaseUrl.ToString(), ApiKey: "sk-bench"));
        await session.StartAsync();
        var pacer = new Pacer();
        var response = new List<double>();
        var loud = new List<double>();
        var floor = new List<double>();
        var firstToken = new List<double>();
        var missed = 0;
        await pacer.PushAsync(session, new short[16_000 * (1 + index % 2) / 2]);
        foreach (var (audio, end) in turns)
        {
            var start = pacer.Pushed;
            await pacer.PushAsync(session, audio);
            var truthEnd = start + end;
            var waited = TimeSpan.Zero;

            // The answer to this turn: a replica turn started after the end of the user's speech, and finished (an answer
            // given at a mid-sentence pause and cut by the rest of the sentence does not count).
            bool Answered()
            {
                var events = sink.Events;
                var started = events.LastOrDefault(e => e.Type == SessionEventTypes.ReplicaStartedSpeaking && e.At > truthEnd);
                return started is not null && events.Any(e => e.Type == SessionEventTypes.ReplicaStoppedSpeaking && e.Seq > started.Seq);
            }

            while (!Answered() && waited < TimeSpan.FromSeconds(15))
            {
                await pacer.PushAsync(session, new short[320]);
                waited += TimeSpan.FromMilliseconds(20);
            }

            var replicaStart = sink.Events.LastOrDefault(e => e.Type == SessionEventTypes.ReplicaStartedSpeaking && e.At > truthEnd);
            if (replicaStart is null)
            {
                missed++;
                if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1")
                {
                    Console.WriteLine($"  missed turn ending at {truthEnd.TotalMilliseconds:F0} ms: " + string.Join(" | ", sink.Events.TakeLast(8).Select(e => $"{e.Seq}:{e.Type}@{e.At.TotalMilliseconds:F0} {e.Text} {e.ErrorCode}")));
                }
            }
            else
            {
                response.Add((replicaStart.At - truthEnd).TotalMilliseconds);
                if (sink.FirstLoudAfter(replicaStart.At) is { } loudEnd)
                {
                    loud.Add((loudEnd - truthEnd).TotalMilliseconds);
                }
                var m = session.Metrics.LastOrDefault(x => x.InferenceId == replicaStart.InferenceId);
                if (Environment.GetEnvironmentVariable("BENCH_VERBOSE") == "1")
                {
                    Console.WriteLine($"  turn ending at {truthEnd.TotalMilliseconds:F0} ms: response {(replicaStart.At - truthEnd).TotalMilliseconds:F0} ms; {m}");
                }

                if (m?.FloorDecision is { } f)
                {
                    floor.Add((m.UserSpeechEnd + f - truthEnd).TotalMilliseconds);
                }

                if (m?.LlmFirstToken is { } t)
                {
                    firstToken.Add((m.UserSpeechEnd + t - truthEnd).TotalMilliseconds);
                }
            }

            await pacer.PushAsync(session, new short[16_000]);
        }

        await session.CompleteAsync();
        while (sender.Pending > 0)
        {
            await Task.Delay(10);
        }

        return new SessionResult(response, loud, floor, sink.Intervals, sink.Frames, (int)session.DroppedVideoFrames, missed,
            session.Clock.TotalSeconds, sink.EncodeTimes, sink.EncodedBytes, sink.Keyframes, recording,
            firstToken, session.Speculations, sink.Count(SessionEventTypes.ReplicaInterrupted));
    }

    private static void Print(string what, List<double> values)
    {
        if (values.Count == 0)
        {
            Console.WriteLine($"{what}: no samples");
            return;
        }

        values.Sort();
        double P(double q) => values[Math.Clamp((int)Math.Ceiling(q * values.Count) - 1, 0, values.Count - 1)];
        Console.WriteLine($"{what}: p50 {P(0.5):F0} ms, p95 {P(0.95):F0} ms, p99 {P(0.99):F0} ms, max {values[^1]:F0} ms (n = {values.Count})");
    }

    /// <summary>Pushes 20 ms chunks at the pace of the wall clock, as a client's microphone would.</summary>
    private sealed class Pacer
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _samples;

        public TimeSpan Pushed => MediaTime.FromSamples(_samples, 16_000);

        public async Task PushAsync(ConversationSession session, short[] audio)
        {
            for (var i = 0; i < audio.Length; i += 160)
            {
                var n = Math.Min(160, audio.Length - i);
                var due = Pushed - _clock.Elapsed;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due);
                }

                await session.PushAudioAsync(audio.AsMemory(i, n));
                _samples += n;
            }
        }
    }

    /// <summary>
    /// What a live transport does with the session's output: each video frame is VP8-encoded as it arrives (on the
    /// session's sender task, so rendering of the next frames overlaps it) and counted as sent when its bytes exist.
    /// </summary>
    private sealed class BenchSink(Vp8Encoder? encoder, Recording? recording, OutputPacer? pacer, PacedSender sender) : IMediaSink, IDisposable
    {
        private readonly ConcurrentQueue<SessionEvent> _events = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private TimeSpan? _last;
        private readonly List<TimeSpan> _loud = []; // ends of loud audio frames, in media time

        public List<double> Intervals { get; } = [];

        public List<double> EncodeTimes { get; } = [];

        public int Frames { get; private set; }

        public long EncodedBytes { get; private set; }

        public long Keyframes { get; private set; }

        public IReadOnlyList<SessionEvent> Events => [.. _events];

        public int Count(string type) => _events.Count(e => e.Type == type);

        public ValueTask SendVideoAsync(I420Frame frame, CancellationToken cancellationToken)
        {
            var at = frame.Timestamp;
            using (frame)
            {
                if (encoder is not null)
                {
                    var started = Stopwatch.GetTimestamp();
                    using var encoded = encoder.Encode(frame);
                    EncodeTimes.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    if (encoded is not null)
                    {
                        EncodedBytes += encoded.Length;
                        Keyframes += encoded.Keyframe ? 1 : 0;
                        recording?.AddVideo(encoded);
                    }
                }
            }

            if (pacer is null)
            {
                Sent();
            }
            else
            {
                sender.Schedule(pacer.Due(at), Sent);
            }

            return ValueTask.CompletedTask;
        }

        /// <summary>The frame leaves: on the paced sender's thread when paced (as a transport's socket write would).</summary>
        private void Sent()
        {
            var now = _clock.Elapsed;
            if (_last is { } last)
            {
                Intervals.Add((now - last).TotalMilliseconds);
            }

            _last = now;
            Frames++;
        }

        /// <summary>The end of the first loud audio frame at or after <paramref name="at"/>, or null.</summary>
        public TimeSpan? FirstLoudAfter(TimeSpan at)
        {
            lock (_loud)
            {
                var i = _loud.FindIndex(end => end > at);
                return i < 0 ? null : _loud[i];
            }
        }

        public ValueTask SendAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
        {
            recording?.AddAudio(frame);
            var at = frame.End; // audio exists once its last sample does
            if (IsLoud(frame.Samples, frame.Format.SampleRate * frame.Format.Channels / 100))
            {
                lock (_loud)
                {
                    _loud.Add(at);
                }
            }

            frame.Dispose();
            if (pacer is not null)
            {
                sender.Schedule(pacer.Due(at), static () => { });
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask SendEventAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
        {
            _events.Enqueue(sessionEvent);
            return ValueTask.CompletedTask;
        }

        public void Dispose() => encoder?.Dispose();

        /// <summary>Whether a window of <paramref name="window"/> samples (10 ms), stepping by itself, is over RMS 300:
        /// the browser bench's threshold, on the same windows it reads the page's audio in.</summary>
        private static bool IsLoud(ReadOnlySpan<short> samples, int window)
        {
            for (var i = 0; i + window <= samples.Length; i += window)
            {
                double e = 0;
                for (var j = i; j < i + window; j++)
                {
                    e += (double)samples[j] * samples[j];
                }

                if (Math.Sqrt(e / window) > 300)
                {
                    return true;
                }
            }

            return false;
        }
    }
}
