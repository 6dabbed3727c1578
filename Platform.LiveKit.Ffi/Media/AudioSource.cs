using Platform.LiveKit.Ffi.Proto;
using Platform.Render.Audio;

namespace Platform.LiveKit.Ffi.Media;

/// <summary>
/// A native audio source fed with PCM (48 kHz mono by default: the session's output format). Frames are captured into
/// the library's queue; <see cref="CaptureAsync(PcmFrame, CancellationToken)"/> completes when the library took the frame.
/// </summary>
public sealed class AudioSource : IDisposable
{
    private readonly FfiClient client;

    public AudioSource(int sampleRate = 48_000, int channels = 1, int queueMilliseconds = 100)
    {
        client = FfiClient.Instance;
        SampleRate = sampleRate;
        Channels = channels;
        var response = client.Request(new FfiRequest
        {
            NewAudioSource = new NewAudioSourceRequest
            {
                Type = AudioSourceType.AudioSourceNative,
                SampleRate = (uint)sampleRate,
                NumChannels = (uint)channels,
                QueueSizeMs = (uint)queueMilliseconds,
                Options = new AudioSourceOptions { EchoCancellation = false, NoiseSuppression = false, AutoGainControl = false },
            },
        });
        Handle = FfiHandle.From(response.NewAudioSource.Source.Handle);
    }

    public int SampleRate { get; }

    public int Channels { get; }

    internal FfiHandle Handle { get; }

    /// <summary>Captures one frame; its format must match the source's.</summary>
    public Task CaptureAsync(PcmFrame frame, CancellationToken cancellationToken = default)
    {
        if (frame.Format.SampleRate != SampleRate || frame.Format.Channels != Channels)
        {
            throw new ArgumentException($"frame is {frame.Format.SampleRate} Hz x{frame.Format.Channels}, source is {SampleRate} Hz x{Channels}", nameof(frame));
        }
        return CaptureAsync(frame.Memory, cancellationToken);
    }

    /// <summary>Captures interleaved 16-bit samples.</summary>
    public async Task CaptureAsync(ReadOnlyMemory<short> samples, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Handle.IsClosed, this);
        if (samples.Length == 0 || samples.Length % Channels != 0) throw new ArgumentException("whole frames over all channels are required", nameof(samples));
        // The library reads the samples while handling the request; they stay pinned until its callback anyway.
        using var pin = samples.Pin();
        var ev = await client.RequestAsync(CaptureRequest(pin, samples.Length), cancellationToken).ConfigureAwait(false);
        if (ev.CaptureAudioFrame.HasError) throw new FfiException($"audio capture failed: {ev.CaptureAudioFrame.Error}");
    }

    private unsafe FfiRequest CaptureRequest(System.Buffers.MemoryHandle pin, int length) => new()
    {
        CaptureAudioFrame = new CaptureAudioFrameRequest
        {
            SourceHandle = Handle.Id,
            Buffer = new AudioFrameBufferInfo
            {
                DataPtr = (ulong)pin.Pointer,
                NumChannels = (uint)Channels,
                SampleRate = (uint)SampleRate,
                SamplesPerChannel = (uint)(length / Channels),
            },
        },
    };

    /// <summary>Drops audio queued in the library but not yet sent (an interruption).</summary>
    public void ClearQueue()
    {
        client.Request(new FfiRequest { ClearAudioBuffer = new ClearAudioBufferRequest { SourceHandle = Handle.Id } });
    }

    public void Dispose() => Handle.Dispose();
}
