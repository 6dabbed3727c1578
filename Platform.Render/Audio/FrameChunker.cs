namespace Platform.Render.Audio;

/// <summary>
/// Re-cuts a 16 kHz mono stream into fixed-size frames (Silero wants exactly 512 samples = 32 ms), each stamped
/// with the media time of its first sample.
/// </summary>
public sealed class FrameChunker(int frameSamples = 512, int sampleRate = 16_000)
{
    private readonly short[] _pending = new short[frameSamples];
    private int _pendingLength;
    private long _emitted; // samples emitted in whole frames

    public int FrameSamples { get; } = frameSamples;

    /// <summary>Calls <paramref name="onFrame"/> for each completed frame with its start time.</summary>
    public void Push(ReadOnlySpan<short> samples, Action<ReadOnlySpan<short>, TimeSpan> onFrame)
    {
        while (!samples.IsEmpty)
        {
            var take = Math.Min(FrameSamples - _pendingLength, samples.Length);
            samples[..take].CopyTo(_pending.AsSpan(_pendingLength));
            _pendingLength += take;
            samples = samples[take..];
            if (_pendingLength == FrameSamples)
            {
                onFrame(_pending, MediaTime.FromSamples(_emitted, sampleRate));
                _emitted += FrameSamples;
                _pendingLength = 0;
            }
        }
    }
}
