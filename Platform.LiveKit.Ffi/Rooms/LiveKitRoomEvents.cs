using Platform.LiveKit.Ffi.Proto;

namespace Platform.LiveKit.Ffi.Rooms;

/// <summary>What happens in a room, in the order the library reports it (<see cref="LiveKitRoom.Events"/>).</summary>
public abstract record LiveKitRoomEvent;

public sealed record ParticipantJoined(RemoteParticipant Participant) : LiveKitRoomEvent;

public sealed record ParticipantLeft(string Identity, DisconnectReason Reason) : LiveKitRoomEvent;

/// <summary>A remote track is subscribed; the room owns <see cref="RemoteTrack"/> until it is unsubscribed.</summary>
public sealed record TrackSubscribed(string ParticipantIdentity, RemoteTrack Track) : LiveKitRoomEvent;

public sealed record TrackUnsubscribed(string ParticipantIdentity, string TrackSid) : LiveKitRoomEvent;

/// <summary>A user data packet (copied out of the library's buffer, which is dropped at once).</summary>
public sealed record DataReceived(string ParticipantIdentity, string Topic, byte[] Data, bool Reliable) : LiveKitRoomEvent;

/// <summary>A byte stream opened by a participant; read its chunks from <see cref="ByteStreamReader.Chunks"/>.</summary>
public sealed record ByteStreamReceived(ByteStreamReader Reader) : LiveKitRoomEvent;

/// <summary>An RPC call to a method this participant registered; answer with <see cref="LiveKitRoom.RespondToRpc"/>.</summary>
public sealed record RpcInvoked(RpcInvocation Invocation) : LiveKitRoomEvent;

public sealed record ConnectionReconnecting : LiveKitRoomEvent;

public sealed record ConnectionReconnected : LiveKitRoomEvent;

/// <summary>The room is gone (server, network or our own <see cref="LiveKitRoom.DisposeAsync"/>); no event follows.</summary>
public sealed record RoomDisconnected(DisconnectReason Reason) : LiveKitRoomEvent;

public sealed record RpcInvocation(ulong InvocationId, string Method, string RequestId, string CallerIdentity, string Payload, TimeSpan ResponseTimeout);

/// <summary>A remote participant; the room owns its handle.</summary>
public sealed class RemoteParticipant
{
    internal RemoteParticipant(FfiHandle handle, ParticipantInfo info)
    {
        Handle = handle;
        Info = info;
    }

    public string Identity => Info.Identity;

    public string Name => Info.Name;

    public ParticipantKind Kind => Info.Kind;

    public IReadOnlyDictionary<string, string> Attributes => Info.Attributes;

    internal ParticipantInfo Info { get; }

    internal FfiHandle Handle { get; }
}

/// <summary>A subscribed remote track; the room owns its handle.</summary>
public sealed class RemoteTrack
{
    internal RemoteTrack(FfiHandle handle, TrackInfo info)
    {
        Handle = handle;
        Info = info;
    }

    public string Sid => Info.Sid;

    public string Name => Info.Name;

    public TrackKind Kind => Info.Kind;

    internal TrackInfo Info { get; }

    internal FfiHandle Handle { get; }
}
