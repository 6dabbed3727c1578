using System.Numerics;
using Platform.Render.Audio;

namespace Platform.Render.Perception;

/// <summary>
/// Removes the replica's own voice from the microphone when it leaks back (speakers into the microphone, an echo
/// canceller in the browser that does not see our Web Audio output), so that VAD, ASR, turn-taking and barge-in hear
/// the user only. Both signals are 16 kHz on the session's media timeline: the reference is the audio the session
/// sent (<see cref="AddReference"/>), the microphone sample at media time t carries the reference from t − delay.
/// Silence the session skipped to shorten the page's queue (<see cref="SkipReference"/>) is left out of the reference,
/// as the page never plays it: delays (and hints) count the page's playback, not media time.
/// <para>
/// The delay comes from the page's playback reports (<see cref="SetDelayHint"/>) or, without them, from the
/// cross-correlation of 10 ms log-energy envelopes over 40–600 ms; a raw-signal cross-correlation then refines it to
/// the sample, and a short NLMS filter around it models the path's gain and colouring. With no reference energy the
/// microphone passes unchanged. Not thread-safe (the listening stage is a single reader). No wall clock.
/// </para>
/// </summary>
public sealed class EchoCanceller
{
    private const int Rate = 16_000;
    private const int RefCapacity = Rate * 2;            // 2 s of reference samples
    private const int Block = 160;                       // 10 ms envelope blocks
    private const int EnvCapacity = 256;                 // blocks of envelope kept
    private const int MinLagBlocks = 4;                  // 40 ms
    private const int MaxLagBlocks = 60;                 // 600 ms (searched without reports)
    private const int MaxDelay = Rate * 3 / 2;           // 1.5 s: what reports and timeline shifts may set
    private const int EnvWindow = 150;                   // 1.5 s of envelope per estimate
    private const int Taps = 64;
    private const int Lead = 16;                         // taps before the estimated delay
    private const int FineWindow = 3_200;                // 200 ms of samples for the fine estimate
    private const int EstimateEvery = Rate / 4;          // re-estimate every 250 ms of microphone audio
    private const float Mu = 0.3f;
    private const float SilentRef = 1e-6f;               // mean square (of ±1 samples) under which the reference is silent
    private const double ResidueKneeDb = -16;            // a remainder under this, relative to the predicted echo, is residue
    private const double ResidueKneeWidthDb = 6;         // … fully so 6 dB further down
    private const double ResidueSuppressionDb = 20;      // how far a residue is turned down

    private readonly float[] _ref = new float[RefCapacity];
    private readonly float[] _refEnv = new float[EnvCapacity];
    private readonly float[] _micEnv = new float[EnvCapacity];
    private readonly float[] _micHist = new float[RefCapacity];
    private readonly float[] _w = new float[Taps];
    private readonly float[] _x = new float[Taps];
    private long _refEnd;            // absolute index after the last reference sample, on the page's playback: media time less what was skipped
    private long _skipped;           // samples of media time the page never played (SkipReference)
    private long _micEnd;            // absolute index after the last microphone sample
    private double _refBlockSum;
    private double _micBlockSum;
    private long _sinceEstimate;
    private long _refActiveUntil = long.MinValue; // microphone index up to which the reference may still echo
    private int? _delay;             // samples
    private int? _hint;              // samples, from playback reports
    private int _hintBias;           // samples: the measured delay minus the hint then (the page's capture latency)
    private const int MaxHintBias = Rate / 10;           // 100 ms
    private const float Smooth = 1f / 80;                // ~5 ms energy smoothing
    private const int WarmUp = Rate / 10;                // adapt freely for 100 ms of echo after a new delay
    private const int MaxFreeze = Rate;                  // 1 s of continuous double talk: the path probably changed
    private double _ey;
    private double _ee;
    private int _adapted;
    private int _frozen;
    private int _worse;              // chunks in a row where cancelling added energy
    private short[] _original = [];

    /// <summary>The echo delay in use (null until known).</summary>
    public TimeSpan? Delay => _delay is { } d ? MediaTime.FromSamples(d, Rate) : null;

    /// <summary>The delay the page's playback reports suggest (null without reports).</summary>
    public TimeSpan? DelayHint => _hint is { } h ? MediaTime.FromSamples(h, Rate) : null;

    /// <summary>Energy removed over the last processed chunk with reference activity, in dB (diagnostics).</summary>
    public double LastAttenuationDb { get; private set; }

    /// <summary>
    /// The page reported that, when the microphone audio at the session's current media time was captured, it was
    /// playing media time p: the echo delay is about (now − p), with p less the media time skipped before it
    /// (<see cref="SkipReference"/>). Used until (and as the centre of) a measured one.
    /// </summary>
    public void SetDelayHint(TimeSpan delay)
    {
        var samples = (int)MediaTime.ToSamples(delay, Rate);
        if (samples < Lead || samples > MaxDelay)
        {
            return;
        }

        if (_hint is { } old && Math.Abs(old - samples) < Block / 2)
        {
            return; // jitter of the reports: keep the filter
        }

        // A report says where the page plays, not when its microphone captured: the measured delay keeps the capture
        // latency found so far on top of it, and only a report that moved by more than the jitter moves the delay.
        _hint = samples;
        var predicted = Math.Clamp(samples + _hintBias, Lead, MaxDelay);
        if (_delay is null || Math.Abs(_delay.Value - predicted) > Block * 3)
        {
            SetDelay(predicted);
        }
    }

    /// <summary>
    /// The microphone's timeline moved against the page's capture by <paramref name="by"/> at the next sample: the
    /// jitter buffer played silence for audio that came late (+), or dropped a backlog (−). Everything the page
    /// captures from now on, its echo included, comes that much later on the session's timeline, so the delay (and the
    /// hint) move with it; what the filter learnt of the path stays.
    /// </summary>
    public void ShiftTimeline(TimeSpan by)
    {
        var samples = (int)MediaTime.ToSamples(by, Rate);
        if (samples == 0)
        {
            return;
        }

        if (_refActiveUntil != long.MinValue && Math.Abs(samples) <= MaxDelay)
        {
            _refActiveUntil += samples;
        }

        _hint = Moved(_hint, samples);
        if (_delay is not null)
        {
            _delay = Moved(_delay, samples);
            if (_delay is null)
            {
                Array.Clear(_w);
            }
        }
    }

    private static int? Moved(int? delay, int by) => delay + by is { } moved && moved >= Lead && moved <= MaxDelay ? moved : null;

    /// <summary>
    /// The session left out <paramref name="by"/> of media time (silence it did not send, to shorten the page's
    /// playback queue): the page plays the next reference sample right after the last one, so the reference is kept as
    /// the page plays it, contiguous, and the echo's delay is unchanged. Call it in order with <see cref="AddReference"/>.
    /// </summary>
    public void SkipReference(TimeSpan by)
    {
        if (by > TimeSpan.Zero)
        {
            _skipped += MediaTime.ToSamples(by, Rate);
        }
    }

    /// <summary>Audio the session sent, 16 kHz, whose first sample is at media time <paramref name="at"/>.</summary>
    public void AddReference(TimeSpan at, ReadOnlySpan<short> pcm16k)
    {
        var start = MediaTime.ToSamples(at, Rate) - _skipped;
        if (start > _refEnd)
        {
            // A gap (nothing sent): silence.
            for (var i = _refEnd; i < start; i++)
            {
                PutRef(i, 0);
            }
        }

        for (var i = 0; i < pcm16k.Length; i++)
        {
            var index = start + i;
            if (index < _refEnd)
            {
                continue;
            }

            PutRef(index, pcm16k[i] / 32768f);
        }
    }

    private void PutRef(long index, float value)
    {
        _ref[index % RefCapacity] = value;
        _refBlockSum += value * value;
        _refEnd = index + 1;
        if (_refEnd % Block == 0)
        {
            var ms = _refBlockSum / Block;
            _refEnv[(_refEnd / Block - 1) % EnvCapacity] = (float)Math.Log10(ms + 1e-9);
            if (ms > SilentRef)
            {
                _refActiveUntil = Math.Max(_refActiveUntil, _refEnd + Math.Max(MaxLagBlocks * Block, (_delay ?? 0) + Block) + Taps);
            }

            _refBlockSum = 0;
        }
    }

    private float RefAt(long index) => index < 0 || index >= _refEnd || index < _refEnd - RefCapacity ? 0 : _ref[index % RefCapacity];

    /// <summary>
    /// Cancels the echo in microphone samples (16 kHz) whose first sample is at media time <paramref name="at"/>, in
    /// place. Returns whether anything was changed.
    /// </summary>
    public bool Process(TimeSpan at, Span<short> mic)
    {
        var start = MediaTime.ToSamples(at, Rate);
        if (start != _micEnd)
        {
            _micEnd = start;
            _micBlockSum = 0;
        }

        var active = start < _refActiveUntil;
        LastSuppressionDb = 0;
        double inEnergy = 0, outEnergy = 0, echoEnergy = 0;
        var covered = 0;
        if (_original.Length < mic.Length)
        {
            _original = new short[mic.Length];
        }

        mic.CopyTo(_original);
        for (var i = 0; i < mic.Length; i++)
        {
            var n = start + i;
            var m = mic[i] / 32768f;
            _micHist[n % RefCapacity] = m;
            _micBlockSum += m * m;
            if ((n + 1) % Block == 0)
            {
                _micEnv[((n + 1) / Block - 1) % EnvCapacity] = (float)Math.Log10(_micBlockSum / Block + 1e-9);
                _micBlockSum = 0;
            }

            if (!active || _delay is not { } d)
            {
                continue;
            }

            // x[k] = ref[n − (d − Lead) − k]
            var first = n - (d - Lead);
            double power = 0;
            for (var k = 0; k < Taps; k++)
            {
                var v = RefAt(first - k);
                _x[k] = v;
                power += v * v;
            }

            if (power < SilentRef * Taps)
            {
                continue;
            }

            var y = Dot(_w, _x);
            var e = m - y;

            // Double talk: once the filter has learnt the path, a residual far above the predicted echo is someone
            // else talking; adapting on it would teach the filter the user's voice. A long freeze re-learns (the path moved).
            _ey = (1 - Smooth) * _ey + Smooth * y * y;
            _ee = (1 - Smooth) * _ee + Smooth * e * e;
            var doubleTalk = _adapted >= WarmUp && _ee > 4 * _ey + SilentRef;
            _frozen = doubleTalk ? _frozen + 1 : 0;
            if (_frozen > MaxFreeze)
            {
                _adapted = 0;
                _frozen = 0;
            }

            if (!doubleTalk)
            {
                var step = (float)(Mu * e / (power + 1e-6));
                Axpy(step, _x, _w);
                _adapted++;
            }
            inEnergy += m * m;
            outEnergy += e * e;
            echoEnergy += y * y;
            covered++;
            mic[i] = (short)Math.Clamp(MathF.Round(e * 32768f), short.MinValue, short.MaxValue);
        }

        _micEnd = start + mic.Length;
        if (inEnergy > 0)
        {
            LastAttenuationDb = 10 * Math.Log10((inEnergy + 1e-12) / (outEnergy + 1e-12));
            if (outEnergy > inEnergy)
            {
                // Never add energy: a filter that does (a wrong alignment, a path that moved) would play the replica's
                // voice into the listener. Pass the microphone through and count it against the alignment.
                _original.AsSpan(0, mic.Length).CopyTo(mic);
                if (++_worse >= 25)
                {
                    _delay = null;
                    _worse = 0;
                    Array.Clear(_w);
                }
            }
            else
            {
                if (outEnergy < inEnergy / 2)
                {
                    _worse = 0;
                }

                SuppressResidue(mic, outEnergy, echoEnergy, covered);
            }
        }

        if (active)
        {
            _sinceEstimate += mic.Length;
            if (_sinceEstimate >= EstimateEvery)
            {
                _sinceEstimate = 0;
                Estimate();
            }
        }

        return active && _delay is not null;
    }

    /// <summary>
    /// The filter leaves some of the echo (the path's non-linear part, the filter's error): quiet, but a VAD hears it
    /// as speech. Where what remains is far under the echo the filter predicted, it is that residue, and it is turned
    /// down further, the way browsers' echo cancellers suppress theirs; someone talking over the echo leaves a
    /// remainder near or above the echo's level and passes untouched. A soft knee between the two avoids a hard edge.
    /// </summary>
    private void SuppressResidue(Span<short> mic, double outEnergy, double echoEnergy, int covered)
    {
        if (_adapted < WarmUp || covered * 2 < mic.Length || echoEnergy <= SilentRef * covered)
        {
            return;
        }

        var residueDb = 10 * Math.Log10((outEnergy + 1e-12) / echoEnergy);
        var depth = Math.Clamp((ResidueKneeDb - residueDb) / ResidueKneeWidthDb, 0, 1);
        if (depth <= 0)
        {
            return;
        }

        LastSuppressionDb = depth * ResidueSuppressionDb;
        var gain = (float)Math.Pow(10, -LastSuppressionDb / 20);
        for (var i = 0; i < mic.Length; i++)
        {
            mic[i] = (short)MathF.Round(mic[i] * gain);
        }
    }

    private void Estimate()
    {
        int? coarse = _hint is { } h ? Math.Clamp(h + _hintBias, Lead, MaxDelay) : null;
        if (coarse is null)
        {
            var lag = CoarseLagBlocks();
            if (lag is null)
            {
                return;
            }

            coarse = lag.Value * Block;
        }

        var radius = _hint is not null ? 800 : Block + Lead; // reports leave the capture latency unknown (≤ 50 ms)
        var found = FineDelay(coarse.Value, radius);
        if (found is { } measured && _hint is { } hint)
        {
            _hintBias = Math.Clamp(measured.Delay - hint, -MaxHintBias, MaxHintBias);
        }

        if (found is { } fine && (_delay is null || Math.Abs(fine.Delay - _delay.Value) > 2))
        {
            var first = _delay is null;
            SetDelay(fine.Delay);
            if (first)
            {
                // Start from the least-squares gain at that lag: cancelling from the first sample, not after convergence.
                _w[Lead] = (float)Math.Clamp(fine.Gain, 0, 4);
            }
        }
    }

    private void SetDelay(int samples)
    {
        if (_delay is { } old)
        {
            // Keep what the filter learnt, moved to the new alignment.
            var shift = samples - old;
            var moved = new float[Taps];
            for (var k = 0; k < Taps; k++)
            {
                var from = k + shift;
                moved[k] = from >= 0 && from < Taps ? _w[from] : 0;
            }

            moved.CopyTo(_w, 0);
        }
        else
        {
            Array.Clear(_w);
        }

        _adapted = 0;
        _frozen = 0;
        _delay = samples;
        ResolvedAt ??= MediaTime.FromSamples(_micEnd, Rate);
    }

    /// <summary>How far the last chunk's echo residue was turned down after cancelling, in dB (diagnostics; 0 when not).</summary>
    public double LastSuppressionDb { get; private set; }

    /// <summary>Media time (microphone) at which an echo delay was first known; null before.</summary>
    public TimeSpan? ResolvedAt { get; private set; }

    /// <summary>The lag (in 10 ms blocks) that best aligns the envelopes, or null when no clear echo is seen.</summary>
    private int? CoarseLagBlocks()
    {
        var lastBlock = _micEnd / Block - 1;
        if (lastBlock - EnvWindow - MaxLagBlocks < 0)
        {
            return null;
        }

        var best = -1.0;
        var bestLag = -1;
        for (var lag = MinLagBlocks; lag <= MaxLagBlocks; lag++)
        {
            double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
            for (var j = 0; j < EnvWindow; j++)
            {
                var b = lastBlock - j;
                var x = _micEnv[b % EnvCapacity];
                var y = _refEnv[(b - lag) % EnvCapacity];
                sx += x;
                sy += y;
                sxx += x * x;
                syy += y * y;
                sxy += x * y;
            }

            var cov = sxy - sx * sy / EnvWindow;
            var vx = sxx - sx * sx / EnvWindow;
            var vy = syy - sy * sy / EnvWindow;
            if (vx <= 1e-9 || vy <= 1e-9)
            {
                continue;
            }

            var r = cov / Math.Sqrt(vx * vy);
            if (r > best)
            {
                best = r;
                bestLag = lag;
            }
        }

        if (best < 0.6)
        {
            return null;
        }

        // An echo follows the reference everywhere: most loud reference blocks must come back loud at that lag (two
        // people taking turns can line up one burst each, but not that).
        int loud = 0, back = 0;
        for (var j = 0; j < EnvWindow; j++)
        {
            var b = lastBlock - j;
            if (_refEnv[(b - bestLag) % EnvCapacity] > -4)
            {
                loud++;
                back += _micEnv[b % EnvCapacity] > -6 ? 1 : 0;
            }
        }

        return loud >= 20 && back >= loud * 0.8 ? bestLag : null;
    }

    /// <summary>The sample delay within ±radius of <paramref name="center"/> that best correlates microphone and reference.</summary>
    private (int Delay, double Gain)? FineDelay(int center, int radius)
    {
        var end = _micEnd;
        var from = end - FineWindow;
        if (from < 0)
        {
            return null;
        }

        var lo = Math.Max(Lead, center - radius);
        var hi = Math.Min(MaxDelay, center + radius);
        var mic = new float[FineWindow];
        double micEnergy = 0;
        for (var i = 0; i < FineWindow; i++)
        {
            mic[i] = _micHist[(from + i) % RefCapacity];
            micEnergy += mic[i] * mic[i];
        }

        if (micEnergy < SilentRef * FineWindow * 10)
        {
            return null; // nothing heard: no evidence either way
        }

        var refs = new float[FineWindow + hi - lo];
        for (var i = 0; i < refs.Length; i++)
        {
            refs[i] = RefAt(from - hi + i);
        }

        var best = 0.0;
        var bestDelay = -1;
        var bestGain = 0.0;
        var current = 0.0;
        for (var d = lo; d <= hi; d++)
        {
            var segment = refs.AsSpan(hi - d, FineWindow);
            var c = Dot(mic, segment);
            var e = Dot(segment, segment);
            if (e < SilentRef * FineWindow * 10)
            {
                if (d == _delay)
                {
                    return null; // the current alignment saw silence: no evidence against it
                }

                continue;
            }

            var r = c / Math.Sqrt(e * micEnergy + 1e-12);
            if (d == _delay)
            {
                current = r;
            }

            if (r > best)
            {
                best = r;
                bestDelay = d;
                bestGain = c / e;
            }
        }

        // Speech correlates with itself at other lags: move only for a clearly better alignment.
        return best >= 0.5 && (_delay is null || best > current + 0.1) ? (bestDelay, bestGain) : null;
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = Vector<float>.Zero;
        var i = 0;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            sum += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }

        var s = Vector.Sum(sum);
        for (; i < a.Length; i++)
        {
            s += a[i] * b[i];
        }

        return s;
    }

    private static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        for (var i = 0; i < x.Length; i++)
        {
            y[i] += a * x[i];
        }
    }
}
