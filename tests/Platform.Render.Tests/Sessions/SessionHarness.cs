using System.Collections.Concurrent;
using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Sessions;
using Platform.Render.Speech.Flite;
using Platform.Render.Speech.PocketSphinx;
using Platform.Render.Tests.Face;
using Platform.Render.Tests.Perception;
using Platform.Render.Thinking;

namespace Platform.Render.Tests.Sessions;

/// <summary>Shared engines for the session tests: VAD, ASR, the avatar's Flite voice and a small face asset.</summary>
public sealed class SessionFixture : IDisposable
{
    public SessionFixture()
    {
        // The tests push audio as fast as the CPU allows: two busy loops must not starve the LLM/TTS continuations.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16), io);
        Vad = new VadFixture();
        Recognizer = new PocketSphinxRecognizer();
        Synthesizer = new FliteSynthesizer();
        Face = FaceAsset.Create(StockLooks.Anna, atlasSize: 256);
    }

    public VadFixture Vad { get; }

    public PocketSphinxRecognizer Recognizer { get; }

    public FliteSynthesizer Synthesizer { get; }

    public FaceAsset Face { get; }

    public SessionResources Resources => new(Vad.Model, Recognizer, Synthesizer, Face);

    public void Dispose()
    {
        Face.Dispose();
        Synthesizer.Dispose();
        Recognizer.Dispose();
        Vad.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class SessionCollection : ICollectionFixture<SessionFixture>
{
    public const string Name = "sessions";
}

/// <summary>What the sink saw. Video frames are kept as a hash, the mouth's dark-pixel count and the timestamp.</summary>
internal sealed class CollectingSink : IMediaSink
{
    private readonly ConcurrentQueue<SessionEvent> _events = new();
    private readonly List<(TimeSpan At, short[] Samples)> _audio = [];
    private readonly List<VideoRecord> _video = [];
    private readonly Lock _gate = new();

    public Func<I420Frame, double>? MouthMeasure { get; set; }

    public IReadOnlyList<SessionEvent> Events => [.. _events];

    public List<(TimeSpan At, short[] Samples)> Audio
    {
        get
        {
            lock (_gate)
            {
                return [.. _audio];
            }
        }
    }

    public List<VideoRecord> Video
    {
        get
        {
            lock (_gate)
            {
                return [.. _video];
            }
        }
    }

    public bool Has(string type) => _events.Any(e => e.Type == type);

    /// <summary>Audio frames received so far.</summary>
    public int AudioFrames
    {
        get
        {
            lock (_gate)
            {
                return _audio.Count;
            }
        }
    }

    /// <summary>The samples of the audio frames from index <paramref name="from"/> on.</summary>
    public List<short[]> AudioFrom(int from) => [.. TimedAudioFrom(from).Select(a => a.Samples)];

    /// <summary>The audio frames from index <paramref name="from"/> on, with their media times.</summary>
    public List<(TimeSpan At, short[] Samples)> TimedAudioFrom(int from)
    {
        lock (_gate)
        {
            return [.. _audio.Skip(from)];
        }
    }

    public ValueTask SendVideoAsync(I420Frame frame, CancellationToken cancellationToken)
    {
        var hash = new HashCode();
        hash.AddBytes(frame.Data);
        var record = new VideoRecord(frame.Timestamp, hash.ToHashCode(), MouthMeasure?.Invoke(frame) ?? 0, frame.Width, frame.Height);
        frame.Dispose();
        lock (_gate)
        {
            _video.Add(record);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask SendAudioAsync(PcmFrame frame, CancellationToken cancellationToken)
    {
        var copy = frame.Samples.ToArray();
        var at = frame.Timestamp;
        frame.Dispose();
        lock (_gate)
        {
            _audio.Add((at, copy));
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask SendEventAsync(SessionEvent sessionEvent, CancellationToken cancellationToken)
    {
        _events.Enqueue(sessionEvent);
        return ValueTask.CompletedTask;
    }

    /// <summary>Media times of 48 kHz samples louder than <paramref name="threshold"/>.</summary>
    public IEnumerable<TimeSpan> LoudAt(short threshold = 300) =>
        Audio.SelectMany(a => a.Samples.Select((s, i) => (s, i)).Where(x => Math.Abs((int)x.s) > threshold)
            .Select(x => a.At + MediaTime.FromSamples(x.i, 48_000)));
}

internal sealed record VideoRecord(TimeSpan At, int Hash, double Mouth, int Width, int Height);

/// <summary>Lip sync from rendered pixels: how the mouth's dark-pixel count follows the loudness of the audio sent.</summary>
internal static class LipSync
{
    public sealed record Result(int Frames, int Lag, double R, double MouthRange)
    {
        public override string ToString() => $"{Frames} frames, best lag {Lag} ms, r = {R:F3}, mouth {MouthRange:F0} dark pixels of range";
    }

    /// <summary>Correlation of mouth opening with the audio envelope at the best lag (±300 ms) over [start, stop] ± 200 ms.</summary>
    public static Result Measure(CollectingSink sink, TimeSpan start, TimeSpan stop)
    {
        var samples = sink.Audio.SelectMany(a => a.Samples).ToArray();
        double Envelope(double seconds)
        {
            // RMS over 40 ms of the audio actually sent, centred on the time.
            var centre = (int)(seconds * 48_000);
            int from = Math.Max(0, centre - 960), to = Math.Min(samples.Length, centre + 960);
            double sum = 0;
            for (var i = from; i < to; i++)
            {
                sum += (double)samples[i] * samples[i];
            }

            // Loudness as heard (compressed), like the animator's own envelope.
            return to > from ? Math.Pow(sum / (to - from), 0.25) : 0;
        }

        var frames = sink.Video.Where(v => v.At >= start - TimeSpan.FromMilliseconds(200) && v.At <= stop + TimeSpan.FromMilliseconds(200)).ToList();
        var open = frames.Select(f => f.Mouth).ToList();
        var best = (Lag: 0, R: double.MinValue);
        for (var lag = -300; lag <= 300; lag += 5)
        {
            var r = Stats.Correlation(open, frames.Select(f => Envelope(f.At.TotalSeconds + lag / 1000.0)).ToList());
            if (r > best.R)
            {
                best = (lag, r);
            }
        }

        return new Result(frames.Count, best.Lag, best.R, open.Count == 0 ? 0 : open.Max() - open.Min());
    }
}

/// <summary>Drives a session in media time, as fast as the CPU allows: 20 ms chunks of 16 kHz user audio.</summary>
internal sealed class SessionDriver(ConversationSession session, CollectingSink sink)
{
    /// <summary>Guards against hangs only (real time); assertions are in media time.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(40);

    private const int Chunk = 320;

    public long PushedSamples { get; private set; }

    public TimeSpan Pushed => MediaTime.FromSamples(PushedSamples, 16_000);

    public ConversationSession Session => session;

    public CollectingSink Sink => sink;

    /// <summary>Real time the driver waits, per silence of the replica, for an answer's next clause before going on without it.</summary>
    public static readonly TimeSpan StarvedWait = TimeSpan.FromSeconds(3);

    /// <summary>How far (media time) the driver runs ahead of the session's loop.</summary>
    public static readonly TimeSpan Lead = TimeSpan.FromMilliseconds(100);

    private readonly AnswerPacing _pacing = new(session);

    public async Task PushAsync(short[] audio)
    {
        for (var i = 0; i < audio.Length; i += Chunk)
        {
            var n = Math.Min(Chunk, audio.Length - i);
            await PushChunkAsync(audio.AsMemory(i, n));
        }
    }

    private async Task PushChunkAsync(ReadOnlyMemory<short> chunk)
    {
        await _pacing.BeforeChunkAsync(Pushed);
        await session.PushAudioAsync(chunk);
        PushedSamples += chunk.Length;
    }

    /// <summary>Pushes silence until <paramref name="done"/> holds, at most <paramref name="maxMedia"/> of it.</summary>
    public async Task SilenceUntilAsync(Func<bool> done, TimeSpan maxMedia, string what)
    {
        var chunk = new short[Chunk];
        var limit = PushedSamples + MediaTime.ToSamples(maxMedia, 16_000);
        var deadline = DateTime.UtcNow + Deadline;
        while (!done())
        {
            if (PushedSamples >= limit)
            {
                // Let the loop catch up with what was pushed before giving up.
                await CatchUpAsync();
                Assert.True(done(), $"{what} did not happen within {maxMedia.TotalSeconds:F1} s of media time; events: {Describe(sink.Events)}");
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{what}: no progress within {Deadline} of real time (clock {session.Clock}); events: {Describe(sink.Events)}");
            await PushChunkAsync(chunk);
        }
    }

    /// <summary>Waits (real time, bounded) until the session's loop has processed what was pushed, all but <paramref name="slack"/> (40 ms unless given).</summary>
    public Task CatchUpAsync(TimeSpan? slack = null) => AnswerPacing.CatchUpAsync(session, Pushed, slack);

    public async Task SilenceAsync(TimeSpan duration) => await PushAsync(new short[MediaTime.ToSamples(duration, 16_000)]);

    public static string Describe(IEnumerable<SessionEvent> events) =>
        string.Join(" | ", events.Select(e => $"{e.Seq}:{e.Type}@{e.At.TotalMilliseconds:F0}{(e.Text is null ? "" : $" '{e.Text}'")}{(e.ErrorCode is null ? "" : $" [{e.ErrorCode}]")}"));

    public static SessionOptions SmallVideo(SessionOptions? o = null) => new()
    {
        Width = 128,
        Height = 72,
        DropVideoWhenSinkIsSlow = false,
        Mode = o?.Mode ?? SessionMode.Conversation,
    };

    /// <summary>Counts dark pixels (the open mouth's interior, Y &lt; 80) in the mouth's box on the canvas of every frame.</summary>
    public static void MeasureMouth(ConversationSession session, CollectingSink sink, FaceAsset face)
    {
        var rect = session.FaceRect!.Value;
        var framing = session.FaceFraming!;
        var scale = rect.Width / (float)framing.Width;
        var points = face.Model.MouthFill.Select(i => framing.ToPixel(face.Model.Reference[i]))
            .Select(p => (X: rect.Left + p.X * scale, Y: rect.Top + p.Y * scale)).ToList();
        var (x0, y0, x1, y1) = ((int)points.Min(p => p.X) - 2, (int)points.Min(p => p.Y) - 2, (int)Math.Ceiling(points.Max(p => p.X)) + 2, (int)Math.Ceiling(points.Max(p => p.Y)) + 2);
        sink.MouthMeasure = frame =>
        {
            var y = frame.Y;
            var dark = 0;
            for (var row = y0; row < y1; row++)
            {
                for (var col = x0; col < x1; col++)
                {
                    dark += y[row * frame.Width + col] < 80 ? 1 : 0;
                }
            }

            return dark;
        };
    }

    public static LlmOptions FastLlm() => new()
    {
        FirstTokenTimeout = TimeSpan.FromSeconds(10),
        StallTimeout = TimeSpan.FromSeconds(10),
    };
}

/// <summary>
/// Keeps a test's microphone from outrunning the answer's LLM and TTS (real time) as the live clock never would: it
/// stays within <see cref="SessionDriver.Lead"/> of the loop (so the floor decision meets the answer's work at once,
/// not behind a queue of audio), and while the replica waits for its next clause it waits too (at most
/// <see cref="SessionDriver.StarvedWait"/> per wait, so stalls and timeouts still play out).
/// </summary>
public sealed class AnswerPacing(ConversationSession session)
{
    private TimeSpan _starvedWaited;

    public async Task BeforeChunkAsync(TimeSpan pushed)
    {
        await CatchUpAsync(session, pushed, SessionDriver.Lead);
        if (session.AnswerInFlight)
        {
            var waitedFrom = DateTime.UtcNow;
            while (session.AnswerStarved && _starvedWaited < SessionDriver.StarvedWait)
            {
                await Task.Delay(2);
                _starvedWaited += DateTime.UtcNow - waitedFrom;
                waitedFrom = DateTime.UtcNow;
            }
        }

        if (!session.AnswerStarved)
        {
            _starvedWaited = TimeSpan.Zero;
        }
    }

    /// <summary>Waits (real time, bounded) until the loop has processed <paramref name="pushed"/>, all but <paramref name="slack"/> (40 ms unless given).</summary>
    public static async Task CatchUpAsync(ConversationSession session, TimeSpan pushed, TimeSpan? slack = null)
    {
        var behind = slack ?? TimeSpan.FromMilliseconds(40);
        var waitUntil = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (session.Clock < pushed - behind && DateTime.UtcNow < waitUntil)
        {
            await Task.Delay(1);
        }
    }
}
