using System.Threading.Channels;
using Platform.LiveKit.Ffi.Proto;
using Platform.Render.Audio;

namespace Platform.LiveKit.Ffi.Media;

/// <summary>
/// A remote participant's audio, mono at the rate asked for, as <see cref="PcmFrame"/>s stamped with the stream's own
/// timeline (samples received so far). When the reader falls behind, the oldest frames are dropped (and returned to the
/// pool) rather than letting latency grow. Dispose to drop the stream.
/// </summary>
public sealed class RemoteAudioStream : IDisposable
{
    private readonly FfiClient client;
    private readonly Channel<PcmFrame> frames;
    private long samplesReceived;
    private long framesDropped;

    internal RemoteAudioStream(FfiClient client, FfiHandle handle, int sampleRate, int maxQueuedFrames = 50)
    {
        this.client = client;
        Handle = handle;
        Format = new AudioFormat(sampleRate, 1);
        frames = Channel.CreateBounded<PcmFrame>(
            new BoundedChannelOptions(maxQueuedFrames) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true, SingleWriter = true },
            dropped =>
            {
                Interlocked.Increment(ref framesDropped);
                dropped.Dispose();
            });
        client.EventReceived += OnEvent;
    }

    public AudioFormat Format { get; }

    public ChannelReader<PcmFrame> Frames => frames.Reader;

    public long FramesDropped => Interlocked.Read(ref framesDropped);

    internal FfiHandle Handle { get; }

    private void OnEvent(FfiEvent ev)
    {
        if (ev.MessageCase != FfiEvent.MessageOneofCase.AudioStreamEvent || ev.AudioStreamEvent.StreamHandle != Handle.Id) return;
        var streamEvent = ev.AudioStreamEvent;
        switch (streamEvent.MessageCase)
        {
            case AudioStreamEvent.MessageOneofCase.FrameReceived:
                var frame = streamEvent.FrameReceived.Frame;
                using (var buffer = FfiHandle.From(frame.Handle))
                {
                    var pcm = Copy(frame.Info);
                    if (pcm is not null && !frames.Writer.TryWrite(pcm)) pcm.Dispose();
                }
                break;
            case AudioStreamEvent.MessageOneofCase.Eos:
                frames.Writer.TryComplete();
                break;
        }
    }

    private unsafe PcmFrame? Copy(AudioFrameBufferInfo info)
    {
        var channels = (int)info.NumChannels;
        var perChannel = (int)info.SamplesPerChannel;
        if (perChannel == 0 || channels == 0) return null;
        var samples = new ReadOnlySpan<short>((void*)info.DataPtr, perChannel * channels);
        var at = Format.DurationOf(samplesReceived);
        samplesReceived += perChannel;
        if (channels == 1 && info.SampleRate == Format.SampleRate) return PcmFrame.Rent(samples, Format, at);
        // The library was asked for mono at our rate; anything else is mixed down here (rate mismatches are not expected).
        Span<short> mono = perChannel <= 4096 ? stackalloc short[perChannel] : new short[perChannel];
        for (var i = 0; i < perChannel; i++)
        {
            var sum = 0;
            for (var c = 0; c < channels; c++) sum += samples[i * channels + c];
            mono[i] = (short)(sum / channels);
        }
        return PcmFrame.Rent(mono, new AudioFormat((int)info.SampleRate, 1), at);
    }

    public void Dispose()
    {
        client.EventReceived -= OnEvent;
        Handle.Dispose();
        frames.Writer.TryComplete();
        while (frames.Reader.TryRead(out var left)) left.Dispose();
    }
}
