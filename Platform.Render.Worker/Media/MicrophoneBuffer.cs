using Platform.Render.Audio;

namespace Platform.Render.Worker.Media;

/// <summary>
/// The jitter buffer between a page's microphone and the session's media clock. The page's audio arrives in bursts at
/// its own rate; the session consumes exactly 20 ms of 16 kHz mono per tick of wall time. Audio starts flowing once
/// <see cref="Target"/> has gathered (so a late packet does not cut a word), a tick with too little plays silence and
/// primes again, and a backlog above <see cref="Limit"/> is trimmed from the oldest end so latency stays bounded.
/// Below the limit a burst would stay as latency for the rest of the call (audio comes as fast as it goes), so the
/// buffer's low-water mark over each second is measured: the slack beyond <see cref="Margin"/>, never needed in that
/// second, is dropped a tick at a time from quiet ticks (the pauses between words). Every millisecond kept is a
/// millisecond later that the session hears the end of the user's sentence, so only half a tick is kept beyond the
/// worst moment of the last second; a packet later than that plays silence until <see cref="Target"/> has gathered again.
/// </summary>
public sealed class MicrophoneBuffer
{
    public const int Rate = 16_000;

    /// <summary>One tick: 20 ms.</summary>
    public const int TickSamples = Rate / 50;

    private readonly Lock _gate = new();
    private readonly short[] _ring;
    private int _start;
    private int _count;
    private bool _flowing;
    private long _offset;
    private Resampler? _resampler;
    private short[] _scratch = new short[4096];
    private int _low = int.MaxValue; // fewest samples left after a read in this window
    private int _windowTicks;
    private int _excess; // slack still to drop from quiet ticks

    /// <summary>Ticks over which the buffer's unused slack is measured (one second).</summary>
    public const int DrainWindowTicks = 50;

    /// <summary>What the low-water mark keeps above empty when slack is drained: half a tick (10 ms).</summary>
    public const int Margin = TickSamples / 2;

    /// <summary>A tick quieter than this (RMS of 16-bit samples, about −47 dBFS) may be dropped to drain slack.</summary>
    public const double QuietRms = 150;

    public MicrophoneBuffer(TimeSpan? target = null, TimeSpan? limit = null)
    {
        Target = (int)MediaTime.ToSamples(target ?? TimeSpan.FromMilliseconds(60), Rate);
        Limit = Math.Max(Target + TickSamples, (int)MediaTime.ToSamples(limit ?? TimeSpan.FromMilliseconds(300), Rate));
        _ring = new short[Limit + TickSamples * 4];
    }

    /// <summary>Samples gathered before audio flows after a start or an underrun.</summary>
    public int Target { get; }

    /// <summary>The most samples kept.</summary>
    public int Limit { get; }

    /// <summary>Samples trimmed because the backlog exceeded <see cref="Limit"/>.</summary>
    public long Trimmed { get; private set; }

    /// <summary>Samples of quiet ticks dropped because the buffer held more than it needed for a whole window.</summary>
    public long Drained { get; private set; }

    /// <summary>Ticks that played silence because the page's audio was late.</summary>
    public long Underruns { get; private set; }

    public int Buffered
    {
        get
        {
            lock (_gate)
            {
                return _count;
            }
        }
    }

    /// <summary>Adds client audio (16-bit, interleaved, any supported rate; stereo is averaged to mono).</summary>
    public void Write(ReadOnlySpan<byte> pcm, int sampleRate, int channels)
    {
        var frames = pcm.Length / (2 * channels);
        lock (_gate)
        {
            Span<short> mono = frames <= 4096 ? stackalloc short[frames] : new short[frames];
            var samples = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(pcm[..(frames * 2 * channels)]);
            for (var i = 0; i < frames; i++)
            {
                mono[i] = channels == 1 ? samples[i] : (short)((samples[2 * i] + samples[2 * i + 1]) / 2);
            }
            if (sampleRate == Rate)
            {
                Append(mono);
                return;
            }
            if (_resampler is null || _resampler.InputRate != sampleRate)
            {
                _resampler = new Resampler(sampleRate, Rate);
            }
            var need = _resampler.MaxOutputFor(frames);
            if (_scratch.Length < need)
            {
                _scratch = new short[need];
            }
            var written = _resampler.Process(mono, _scratch);
            Append(_scratch.AsSpan(0, written));
        }
    }

    /// <summary>
    /// How far the session's timeline has run ahead of the page's own capture, in samples: each tick of silence played
    /// for audio that had not come adds one, each sample trimmed from a backlog takes one away.
    /// </summary>
    public long TimelineOffset
    {
        get
        {
            lock (_gate)
            {
                return _offset;
            }
        }
    }

    /// <summary>Fills <paramref name="tick"/> (<see cref="TickSamples"/>) with the next 20 ms, or silence; true when
    /// it carried client audio.</summary>
    public bool Read(Span<short> tick) => Read(tick, out _);

    /// <summary>As <see cref="Read(Span{short})"/>, with the <see cref="TimelineOffset"/> that holds for the audio read.</summary>
    public bool Read(Span<short> tick, out long timelineOffset)
    {
        lock (_gate)
        {
            if (_flowing && _count >= tick.Length)
            {
                DrainSlack(tick.Length);
            }
            timelineOffset = _offset;
            if (!_flowing && _count >= Target)
            {
                _flowing = true;
            }
            if (!_flowing || _count < tick.Length)
            {
                if (_flowing)
                {
                    Underruns++;
                    _flowing = false;
                    _low = 0; // the slack was needed
                }
                tick.Clear();
                _offset += tick.Length;
                return false;
            }
            for (var i = 0; i < tick.Length; i++)
            {
                tick[i] = _ring[(_start + i) % _ring.Length];
            }
            _start = (_start + tick.Length) % _ring.Length;
            _count -= tick.Length;
            return true;
        }
    }

    /// <summary>Measures this tick's slack into the window and drops the next tick if it is quiet and slack is owed.</summary>
    private void DrainSlack(int tickLength)
    {
        _low = Math.Min(_low, _count - tickLength);
        if (++_windowTicks >= DrainWindowTicks)
        {
            _excess = Math.Max(0, _low - Margin);
            _low = int.MaxValue;
            _windowTicks = 0;
        }
        if (_excess < tickLength || _count < 2 * tickLength || !IsQuiet(_start, tickLength))
        {
            return;
        }
        _start = (_start + tickLength) % _ring.Length;
        _count -= tickLength;
        _offset -= tickLength;
        _excess -= tickLength;
        _low = Math.Min(_low, _count - tickLength);
        Drained += tickLength;
    }

    private bool IsQuiet(int start, int length)
    {
        double sum = 0;
        for (var i = 0; i < length; i++)
        {
            double v = _ring[(start + i) % _ring.Length];
            sum += v * v;
        }
        return sum < QuietRms * QuietRms * length;
    }

    /// <summary>Forgets everything (a new connection starts fresh).</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _start = 0;
            _count = 0;
            _flowing = false;
            _resampler = null;
            _low = int.MaxValue;
            _windowTicks = 0;
            _excess = 0;
        }
    }

    private void Append(ReadOnlySpan<short> samples)
    {
        foreach (var s in samples)
        {
            _ring[(_start + _count) % _ring.Length] = s;
            if (_count < _ring.Length)
            {
                _count++;
            }
            else
            {
                _start = (_start + 1) % _ring.Length; // overwritten before it could be trimmed
                Trimmed++;
                _offset--;
            }
        }
        if (_count > Limit)
        {
            var drop = _count - Target;
            _start = (_start + drop) % _ring.Length;
            _count -= drop;
            Trimmed += drop;
            _offset -= drop;
        }
    }
}
