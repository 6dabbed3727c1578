using System.Buffers;

namespace Platform.Render.Audio;

/// <summary>
/// A run of mono or interleaved PCM samples with the media time of its first sample. The buffer is rented from the
/// shared pool; whoever holds the frame last disposes it. Stages that only look at a frame use <see cref="Samples"/>.
/// </summary>
public sealed class PcmFrame : IDisposable
{
    private short[]? _buffer;

    private PcmFrame(short[] buffer, int length, AudioFormat format, TimeSpan timestamp)
    {
        _buffer = buffer;
        Length = length;
        Format = format;
        Timestamp = timestamp;
    }

    public AudioFormat Format { get; }

    /// <summary>Media time of the first sample.</summary>
    public TimeSpan Timestamp { get; }

    /// <summary>Samples over all channels (interleaved).</summary>
    public int Length { get; }

    public int SamplesPerChannel => Length / Format.Channels;

    public TimeSpan Duration => Format.DurationOf(SamplesPerChannel);

    public TimeSpan End => Timestamp + Duration;

    public ReadOnlySpan<short> Samples => (_buffer ?? throw new ObjectDisposedException(nameof(PcmFrame))).AsSpan(0, Length);

    public ReadOnlyMemory<short> Memory => (_buffer ?? throw new ObjectDisposedException(nameof(PcmFrame))).AsMemory(0, Length);

    public static PcmFrame Rent(ReadOnlySpan<short> samples, AudioFormat format, TimeSpan timestamp)
    {
        var buffer = ArrayPool<short>.Shared.Rent(Math.Max(1, samples.Length));
        samples.CopyTo(buffer);
        return new PcmFrame(buffer, samples.Length, format, timestamp);
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null) ArrayPool<short>.Shared.Return(buffer);
    }
}
