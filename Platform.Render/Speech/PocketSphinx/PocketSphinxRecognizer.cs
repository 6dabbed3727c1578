using System.Runtime.InteropServices;
using System.Text;

namespace Platform.Render.Speech.PocketSphinx;

public sealed record PocketSphinxOptions
{
    /// <summary>Stock en-US model from Debian's pocketsphinx-en-us.</summary>
    public string ModelDirectory { get; init; } = "/usr/share/pocketsphinx/model/en-us";

    /// <summary>
    /// Real-time (default): the forward tree search only with tighter pruning, so the final is ready right after
    /// the last frame (6.2% WER on the Flite rms/awb/kal16 test set, about a quarter of the CPU of Accurate).
    /// Accurate: the stock passes (flat lexicon and best path; 3.1% WER on the same set).
    /// </summary>
    public PocketSphinxSearch Search { get; init; } = PocketSphinxSearch.RealTime;

    /// <summary>Extra decoder arguments (name, value pairs), e.g. ("-beam", "1e-60").</summary>
    public IReadOnlyList<(string Name, string Value)> ExtraArguments { get; init; } = [];

    /// <summary>How much audio passes between partial hypotheses.</summary>
    public TimeSpan PartialInterval { get; init; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>PocketSphinx through P/Invoke; every stream owns one decoder (~360 ms to create, tens of MB).</summary>
public enum PocketSphinxSearch { RealTime, Accurate }

public sealed class PocketSphinxRecognizer(PocketSphinxOptions? options = null) : ISpeechRecognizer
{
    private readonly PocketSphinxOptions _options = options ?? new PocketSphinxOptions();

    public string Name => "pocketsphinx/en-us";

    public static bool IsAvailable(out string? reason, PocketSphinxOptions? options = null)
    {
        if (!PocketSphinxNative.TryLoad(out reason)) return false;
        var dir = (options ?? new PocketSphinxOptions()).ModelDirectory;
        if (!File.Exists(Path.Combine(dir, "en-us.lm.bin")))
        {
            reason = $"PocketSphinx model not found in {dir}: install Debian pocketsphinx-en-us";
            return false;
        }
        return true;
    }

    public ValueTask<(IRecognitionStream? Stream, SpeechError? Error)> OpenStreamAsync(CancellationToken cancellationToken = default)
    {
        // Decoder creation reads ~30 MB of model: keep it off the caller's thread.
        return new ValueTask<(IRecognitionStream?, SpeechError?)>(Task.Run(() =>
        {
            var stream = Open(out var error);
            return ((IRecognitionStream?)stream, error);
        }, cancellationToken));
    }

    // sphinxbase keeps one process-wide log FILE*. "-logfn" makes every ps_init fclose it and open another, which
    // crashes (in libc) a decoder logging on another thread at that moment. So logging is switched off once for the
    // process, no decoder is given -logfn, and decoders are created one at a time.
    private static readonly Lock InitGate = new();
    private static bool _loggingOff;

    /// <summary>Creates a decoder synchronously; null with an error when the library or model is missing.</summary>
    public PocketSphinxStream? Open(out SpeechError? error)
    {
        lock (InitGate)
        {
            return OpenLocked(out error);
        }
    }

    private PocketSphinxStream? OpenLocked(out SpeechError? error)
    {
        if (!IsAvailable(out var reason, _options))
        {
            error = new SpeechError("asr_unavailable", reason!);
            return null;
        }
        var dir = _options.ModelDirectory;
        var args = new List<string>
        {
            "-hmm", Path.Combine(dir, "en-us"),
            "-lm", Path.Combine(dir, "en-us.lm.bin"),
            "-dict", Path.Combine(dir, "cmudict-en-us.dict"),
        };
        if (_options.Search == PocketSphinxSearch.RealTime)
            args.AddRange(["-fwdflat", "no", "-bestpath", "no", "-topn", "2", "-maxhmmpf", "3000", "-maxwpf", "10"]);
        foreach (var (name, value) in _options.ExtraArguments) args.AddRange([name, value]);

        var argv = args.Select(Marshal.StringToCoTaskMemUTF8).ToArray();
        try
        {
            if (!_loggingOff)
            {
                PocketSphinxNative.err_set_logfp(IntPtr.Zero);
                _loggingOff = true;
            }
            var config = PocketSphinxNative.cmd_ln_parse_r(IntPtr.Zero, PocketSphinxNative.ps_args(), argv.Length, argv, 1);
            if (config == IntPtr.Zero)
            {
                error = new SpeechError("asr_config", "PocketSphinx rejected its arguments: " + string.Join(' ', args));
                return null;
            }
            var decoder = PocketSphinxNative.ps_init(config);
            // ps_init takes its own reference on the config.
            PocketSphinxNative.cmd_ln_free_r(config);
            if (decoder == IntPtr.Zero)
            {
                error = new SpeechError("asr_init", $"PocketSphinx could not load the model in {dir}");
                return null;
            }
            error = null;
            return new PocketSphinxStream(decoder, _options.PartialInterval);
        }
        finally
        {
            foreach (var p in argv) Marshal.FreeCoTaskMem(p);
        }
    }

    public void Dispose()
    {
    }

    internal static string? ReadUtf8(IntPtr p) => p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);

    /// <summary>"word(2)" → "word"; fillers and silences ("&lt;s&gt;", "[NOISE]", "&lt;sil&gt;") → null.</summary>
    internal static string? CleanWord(string? word)
    {
        if (string.IsNullOrEmpty(word) || word[0] is '<' or '[' or '+') return null;
        var paren = word.IndexOf('(');
        return paren > 0 ? word[..paren] : word;
    }

    internal static string CleanText(string? hyp)
    {
        if (string.IsNullOrWhiteSpace(hyp)) return string.Empty;
        var sb = new StringBuilder(hyp.Length);
        foreach (var w in hyp.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var clean = CleanWord(w);
            if (clean is null) continue;
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(clean);
        }
        return sb.ToString();
    }
}

/// <summary>One PocketSphinx decoder. Not thread-safe by nature: calls are serialised by a lock.</summary>
public sealed class PocketSphinxStream : IRecognitionStream, IDisposable
{
    private const int FrameMs = 10;
    private readonly object _gate = new();
    private readonly long _partialIntervalSamples;
    private IntPtr _decoder;
    private bool _inUtterance;
    private TimeSpan _utteranceStart;
    private long _fedSamples;
    private long _samplesSincePartial;
    private string _lastPartial = string.Empty;

    internal PocketSphinxStream(IntPtr decoder, TimeSpan partialInterval)
    {
        _decoder = decoder;
        _partialIntervalSamples = Math.Max(1, (long)(partialInterval.TotalSeconds * 16_000));
    }

    /// <summary>Audio fed into the current utterance.</summary>
    public TimeSpan UtteranceAudio => TimeSpan.FromSeconds(_fedSamples / 16_000.0);

    public void BeginUtterance(TimeSpan mediaStart)
    {
        lock (_gate)
        {
            if (_decoder == IntPtr.Zero) return;
            if (_inUtterance) PocketSphinxNative.ps_end_utt(_decoder);
            _inUtterance = StartUtterance();
            _utteranceStart = mediaStart;
            _fedSamples = 0;
            _samplesSincePartial = 0;
            _lastPartial = string.Empty;
        }
    }

    public ValueTask<Transcript?> AcceptAsync(ReadOnlyMemory<short> pcm16k, CancellationToken cancellationToken = default) =>
        new(Accept(pcm16k.Span));

    public unsafe Transcript? Accept(ReadOnlySpan<short> pcm16k)
    {
        lock (_gate)
        {
            if (_decoder == IntPtr.Zero || pcm16k.IsEmpty) return null;
            if (!_inUtterance) BeginUtteranceLocked();
            fixed (short* p = pcm16k)
            {
                if (PocketSphinxNative.ps_process_raw(_decoder, p, (nuint)pcm16k.Length, 0, 0) < 0) return null;
            }
            _fedSamples += pcm16k.Length;
            _samplesSincePartial += pcm16k.Length;
            if (_samplesSincePartial < _partialIntervalSamples) return null;
            _samplesSincePartial = 0;
            var text = PocketSphinxRecognizer.CleanText(PocketSphinxRecognizer.ReadUtf8(PocketSphinxNative.ps_get_hyp(_decoder, out _)));
            if (text == _lastPartial) return null;
            _lastPartial = text;
            return new Transcript(text, [], false);
        }
    }

    public ValueTask<Transcript?> PeekAsync(CancellationToken cancellationToken = default) => new(Peek());

    /// <summary>The best hypothesis over the audio fed so far (the forward search's, as the final would be).</summary>
    public Transcript? Peek()
    {
        lock (_gate)
        {
            if (_decoder == IntPtr.Zero || !_inUtterance) return null;
            var text = PocketSphinxRecognizer.CleanText(PocketSphinxRecognizer.ReadUtf8(PocketSphinxNative.ps_get_hyp(_decoder, out _)));
            return new Transcript(text, [], false);
        }
    }

    /// <summary>
    /// Segment frame numbers count from the start of the stream, so each utterance starts a stream (the
    /// cepstral mean, which adapts to the speaker, survives it).
    /// </summary>
    private bool StartUtterance()
    {
        PocketSphinxNative.ps_start_stream(_decoder);
        return PocketSphinxNative.ps_start_utt(_decoder) >= 0;
    }

    private void BeginUtteranceLocked()
    {
        _inUtterance = StartUtterance();
        _utteranceStart = MediaPositionAfterLast();
        _fedSamples = 0;
        _samplesSincePartial = 0;
        _lastPartial = string.Empty;
    }

    private TimeSpan MediaPositionAfterLast() => _utteranceStart + TimeSpan.FromSeconds(_fedSamples / 16_000.0);

    public ValueTask<RecognitionResult> EndUtteranceAsync(CancellationToken cancellationToken = default) => new(EndUtterance());

    public RecognitionResult EndUtterance()
    {
        lock (_gate)
        {
            if (_decoder == IntPtr.Zero) return RecognitionResult.Failed("asr_closed", "the recogniser stream is closed");
            if (!_inUtterance) return new RecognitionResult(Transcript.EmptyFinal);
            _inUtterance = false;
            if (PocketSphinxNative.ps_end_utt(_decoder) < 0)
                return RecognitionResult.Failed("asr_decode", "PocketSphinx failed to end the utterance");
            var text = PocketSphinxRecognizer.CleanText(PocketSphinxRecognizer.ReadUtf8(PocketSphinxNative.ps_get_hyp(_decoder, out _)));
            var segments = new List<(string? Word, int Start, int End)>();
            for (var seg = PocketSphinxNative.ps_seg_iter(_decoder); seg != IntPtr.Zero; seg = PocketSphinxNative.ps_seg_next(seg))
            {
                PocketSphinxNative.ps_seg_frames(seg, out var sf, out var ef);
                segments.Add((PocketSphinxRecognizer.CleanWord(PocketSphinxRecognizer.ReadUtf8(PocketSphinxNative.ps_seg_word(seg))), sf, ef));
            }
            // ps_seg_next frees the iterator when it returns NULL.
            var words = new List<WordTiming>(segments.Count);
            foreach (var (word, sf, ef) in segments)
            {
                if (word is null) continue;
                words.Add(new WordTiming(word,
                    _utteranceStart + TimeSpan.FromMilliseconds(Math.Max(0, sf) * FrameMs),
                    _utteranceStart + TimeSpan.FromMilliseconds(Math.Max(0, ef + 1) * FrameMs)));
            }
            return new RecognitionResult(new Transcript(text, words, true));
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_decoder == IntPtr.Zero) return;
            if (_inUtterance) PocketSphinxNative.ps_end_utt(_decoder);
            PocketSphinxNative.ps_free(_decoder);
            _decoder = IntPtr.Zero;
        }
        GC.SuppressFinalize(this);
    }

    ~PocketSphinxStream()
    {
        if (_decoder != IntPtr.Zero) PocketSphinxNative.ps_free(_decoder);
    }

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
