namespace Platform.Render.Audio;

/// <summary>
/// Streaming polyphase windowed-sinc resampler between any two integer rates (mono). The output depends only on
/// the samples fed, never on how they were cut into chunks. Not thread-safe: one per stream.
/// </summary>
public sealed class Resampler
{
    private const int TapsPerPhase = 24;

    private readonly int _up;   // L
    private readonly int _down; // M
    private readonly float[] _bank; // [phase * TapsPerPhase + k]
    private readonly float[] _history = new float[TapsPerPhase - 1];
    private float[] _work = new float[1024];
    private int _phase;         // output position within the current input sample, in 1/L steps
    private readonly bool _passThrough;

    public Resampler(int inputRate, int outputRate)
    {
        if (inputRate <= 0 || outputRate <= 0) throw new ArgumentOutOfRangeException(nameof(inputRate), "rates must be positive");
        InputRate = inputRate;
        OutputRate = outputRate;
        var g = Gcd(inputRate, outputRate);
        _up = outputRate / g;
        _down = inputRate / g;
        _passThrough = _up == 1 && _down == 1;
        _bank = _passThrough ? [] : DesignBank(_up, _down);
    }

    public int InputRate { get; }

    public int OutputRate { get; }

    /// <summary>Upper bound of the output length for <paramref name="inputSamples"/> more input samples.</summary>
    public int MaxOutputFor(int inputSamples) => (int)(((long)inputSamples * _up + _phase) / _down) + 2;

    /// <summary>Resamples <paramref name="input"/>, writing to <paramref name="output"/>; returns the samples written.</summary>
    public int Process(ReadOnlySpan<short> input, Span<short> output)
    {
        if (input.IsEmpty) return 0;
        if (_passThrough)
        {
            input.CopyTo(output);
            return input.Length;
        }

        // work = history (TapsPerPhase-1 samples) followed by the new input, as float.
        var h = _history.Length;
        var total = h + input.Length;
        if (_work.Length < total) _work = new float[Math.Max(total, _work.Length * 2)];
        var work = _work.AsSpan(0, total);
        _history.CopyTo(work);
        for (var i = 0; i < input.Length; i++) work[h + i] = input[i];

        // The newest input sample usable as the filter's head is at work index n (n >= h). Output at phase p between
        // input n and n+1 uses x[n-k] * bank[p][k].
        var written = 0;
        var n = h;
        var phase = _phase;
        while (n < total)
        {
            while (phase < _up)
            {
                var taps = _bank.AsSpan(phase * TapsPerPhase, TapsPerPhase);
                float acc = 0;
                for (var k = 0; k < TapsPerPhase; k++) acc += work[n - k] * taps[k];
                output[written++] = Clip(acc);
                phase += _down;
            }
            // Advance across input samples.
            var step = phase / _up;
            phase -= step * _up;
            n += step;
        }
        // n overshot the input: the surplus input samples are skipped at the start of the next call.
        _phase = phase + (n - total) * _up;
        work.Slice(total - h, h).CopyTo(_history);
        return written;
    }

    public short[] Process(ReadOnlySpan<short> input)
    {
        var output = new short[MaxOutputFor(input.Length)];
        var n = Process(input, output);
        return output.AsSpan(0, n).ToArray();
    }

    public void Reset()
    {
        Array.Clear(_history);
        _phase = 0;
    }

    private static short Clip(float v) => v >= 32767f ? short.MaxValue : v <= -32768f ? short.MinValue : (short)MathF.Round(v);

    private static float[] DesignBank(int up, int down)
    {
        // Prototype low-pass at the upsampled rate (input * up): cutoff at the lower Nyquist, a little inside it.
        var length = up * TapsPerPhase;
        var cutoff = 0.5 / Math.Max(up, down) * 0.92; // cycles per upsampled sample
        var center = (length - 1) / 2.0;
        var proto = new double[length];
        for (var i = 0; i < length; i++)
        {
            var t = i - center;
            var sinc = t == 0 ? 2 * cutoff : Math.Sin(2 * Math.PI * cutoff * t) / (Math.PI * t);
            // Blackman window
            var w = 0.42 - 0.5 * Math.Cos(2 * Math.PI * i / (length - 1)) + 0.08 * Math.Cos(4 * Math.PI * i / (length - 1));
            proto[i] = sinc * w;
        }
        var bank = new float[length];
        for (var p = 0; p < up; p++)
        {
            double sum = 0;
            for (var k = 0; k < TapsPerPhase; k++) sum += proto[k * up + p];
            // Normalise each phase to unity DC gain so a constant stays constant whatever the phase.
            for (var k = 0; k < TapsPerPhase; k++) bank[p * TapsPerPhase + k] = (float)(proto[k * up + p] / sum);
        }
        return bank;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
