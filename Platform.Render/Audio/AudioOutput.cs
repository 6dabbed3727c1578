namespace Platform.Render.Audio;

/// <summary>
/// The replica's audio out: mono speech at the synthesiser's rate (16 kHz Flite, 24 kHz HTTP TTS...) resampled to
/// 48 kHz and cut into fixed 20 ms frames (960 samples, what Opus and WebRTC want), stamped with media time.
/// One per conversation; a change of source rate restarts the resampler at the next sample.
/// </summary>
public sealed class AudioOutput(int frameMilliseconds = 20)
{
    private readonly int _frameSamples = AudioFormat.Output48k.SampleRate * frameMilliseconds / 1000;
    private readonly List<PcmFrame> _frames = [];
    private Resampler? _resampler;
    private FrameChunker? _chunker;
    private short[] _buffer = new short[4096];
    private long _framesOut;

    public int FrameSamples => _frameSamples;

    /// <summary>Accepts speech at <paramref name="sampleRate"/>; returns the completed 48 kHz frames (caller disposes them).</summary>
    public IReadOnlyList<PcmFrame> Push(ReadOnlySpan<short> mono, int sampleRate)
    {
        _frames.Clear();
        if (mono.IsEmpty || sampleRate <= 0) return _frames;
        if (_resampler is null || _resampler.InputRate != sampleRate) _resampler = new Resampler(sampleRate, AudioFormat.Output48k.SampleRate);
        _chunker ??= new FrameChunker(_frameSamples, AudioFormat.Output48k.SampleRate);
        var max = _resampler.MaxOutputFor(mono.Length);
        if (_buffer.Length < max) _buffer = new short[Math.Max(max, _buffer.Length * 2)];
        var n = _resampler.Process(mono, _buffer);
        _chunker.Push(_buffer.AsSpan(0, n), (frame, _) =>
        {
            _frames.Add(PcmFrame.Rent(frame, AudioFormat.Output48k, MediaTime.FromSamples(_framesOut * _frameSamples, AudioFormat.Output48k.SampleRate)));
            _framesOut++;
        });
        return _frames;
    }
}
