namespace Platform.Render.Audio;

/// <summary>
/// Turns a client's byte stream (16-bit little-endian PCM, mono or interleaved stereo, any supported rate) into
/// 16 kHz mono frames stamped with media time counted from the first sample. Tolerates odd-length and partial
/// buffers (the remainder waits for the next call). Never throws on bad data: an unsupported format is reported
/// once through <see cref="Error"/> and the input is dropped.
/// </summary>
public sealed class AudioInput
{
    private readonly Resampler? _resampler;
    private readonly byte[] _carry = new byte[4];
    private int _carryLength;
    private long _outputSamples;
    private short[] _mono = new short[2048];
    private short[] _out = new short[2048];

    public AudioInput(AudioFormat declared)
    {
        Declared = declared;
        if (!declared.IsSupportedInput)
        {
            Error = $"unsupported input format {declared}: expected 16-bit PCM, 1 or 2 channels, at one of "
                    + string.Join(", ", AudioFormat.SupportedInputRates) + " Hz";
            return;
        }
        _resampler = new Resampler(declared.SampleRate, AudioFormat.Speech16k.SampleRate);
    }

    public AudioFormat Declared { get; }

    /// <summary>Set when the declared format cannot be used; then every call returns no output.</summary>
    public string? Error { get; }

    /// <summary>Media time of the next output sample.</summary>
    public TimeSpan Position => MediaTime.FromSamples(_outputSamples, AudioFormat.Speech16k.SampleRate);

    /// <summary>Accepts raw bytes; returns the 16 kHz mono frame they complete, or null when nothing came out.</summary>
    public PcmFrame? Push(ReadOnlySpan<byte> bytes)
    {
        if (_resampler is null || bytes.IsEmpty) return null;
        var frameBytes = Declared.BytesPerFrame;
        var available = _carryLength + bytes.Length;
        var whole = available / frameBytes;
        if (whole == 0)
        {
            bytes.CopyTo(_carry.AsSpan(_carryLength));
            _carryLength += bytes.Length;
            return null;
        }

        if (_mono.Length < whole) _mono = new short[Math.Max(whole, _mono.Length * 2)];
        Span<byte> one = stackalloc byte[4];
        for (var i = 0; i < whole; i++)
        {
            for (var b = 0; b < frameBytes; b++)
            {
                var idx = i * frameBytes + b; // position in carry+bytes
                one[b] = idx < _carryLength ? _carry[idx] : bytes[idx - _carryLength];
            }
            int left = (short)(one[0] | one[1] << 8);
            _mono[i] = frameBytes == 2 ? (short)left : (short)((left + (short)(one[2] | one[3] << 8)) >> 1);
        }
        var consumed = whole * frameBytes - _carryLength; // bytes of `bytes` used
        var rest = bytes[consumed..];
        rest.CopyTo(_carry);
        _carryLength = rest.Length;

        return Push16(_mono.AsSpan(0, whole));
    }

    /// <summary>Accepts mono samples at the declared rate (stereo input must use the byte overload).</summary>
    public PcmFrame? Push(ReadOnlySpan<short> monoSamples)
    {
        if (_resampler is null || monoSamples.IsEmpty) return null;
        if (Declared.Channels != 1)
        {
            // Interleaved stereo given as shorts: average the pairs (an odd trailing sample is dropped).
            var pairs = monoSamples.Length / 2;
            if (_mono.Length < pairs) _mono = new short[Math.Max(pairs, _mono.Length * 2)];
            for (var i = 0; i < pairs; i++) _mono[i] = (short)((monoSamples[2 * i] + monoSamples[2 * i + 1]) >> 1);
            return Push16(_mono.AsSpan(0, pairs));
        }
        return Push16(monoSamples);
    }

    private PcmFrame? Push16(ReadOnlySpan<short> mono)
    {
        var max = _resampler!.MaxOutputFor(mono.Length);
        if (_out.Length < max) _out = new short[Math.Max(max, _out.Length * 2)];
        var n = _resampler.Process(mono, _out);
        if (n == 0) return null;
        var frame = PcmFrame.Rent(_out.AsSpan(0, n), AudioFormat.Speech16k, Position);
        _outputSamples += n;
        return frame;
    }
}
