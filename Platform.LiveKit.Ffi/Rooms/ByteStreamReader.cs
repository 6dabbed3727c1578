using System.Threading.Channels;
using Platform.LiveKit.Ffi.Proto;

namespace Platform.LiveKit.Ffi.Rooms;

/// <summary>
/// An incoming byte stream (LiveKit data streams): its header (<see cref="Topic"/>, <see cref="Attributes"/>...) and
/// its chunks as they arrive. <see cref="Chunks"/> completes at the end of the stream, with an exception when the
/// sender aborted it. The reader's handle is dropped at the end of the stream or when the room goes.
/// </summary>
public sealed class ByteStreamReader
{
    private readonly Channel<ReadOnlyMemory<byte>> chunks =
        Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    internal ByteStreamReader(FfiHandle handle, ByteStreamInfo info, string participantIdentity)
    {
        Handle = handle;
        Info = info;
        ParticipantIdentity = participantIdentity;
    }

    public string ParticipantIdentity { get; }

    public string StreamId => Info.StreamId;

    public string Topic => Info.Topic;

    public string MimeType => Info.MimeType;

    public IReadOnlyDictionary<string, string> Attributes => Info.Attributes;

    /// <summary>Attributes sent with the end of the stream (empty when none).</summary>
    public IReadOnlyDictionary<string, string> TrailerAttributes { get; private set; } = new Dictionary<string, string>();

    public ChannelReader<ReadOnlyMemory<byte>> Chunks => chunks.Reader;

    internal ByteStreamInfo Info { get; }

    internal FfiHandle Handle { get; }

    /// <summary>Applies one reader event; true when the stream ended.</summary>
    internal bool Apply(ByteStreamReaderEvent ev)
    {
        switch (ev.DetailCase)
        {
            case ByteStreamReaderEvent.DetailOneofCase.ChunkReceived:
                chunks.Writer.TryWrite(ev.ChunkReceived.Content.ToByteArray());
                return false;
            case ByteStreamReaderEvent.DetailOneofCase.Eos:
                TrailerAttributes = new Dictionary<string, string>(ev.Eos.Attributes);
                chunks.Writer.TryComplete(ev.Eos.Error is { } error ? new FfiException($"byte stream {StreamId} failed: {error.Description}") : null);
                return true;
            default:
                return false;
        }
    }

    internal void Abort(string reason) => chunks.Writer.TryComplete(new FfiException($"byte stream {StreamId}: {reason}"));
}
