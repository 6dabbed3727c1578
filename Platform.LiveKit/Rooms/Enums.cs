using Platform.LiveKit.Protocol;

namespace Platform.LiveKit.Rooms;

// Values equal LiveKit's protobuf numbers; names map to LiveKit's enum names (CAMERA, SCREEN_SHARE_AUDIO, ...).
// Unrecognized (-1) stands for a name or number this version does not know (LiveKit adds values over time).

/// <summary>A track's source (<c>livekit.TrackSource</c>); also the values of the <c>canPublishSources</c> grant.</summary>
public enum TrackSource
{
    /// <summary>A value this SDK does not know.</summary>
    Unrecognized = -1,
    /// <summary><c>UNKNOWN</c>.</summary>
    Unknown = 0,
    /// <summary><c>CAMERA</c> (grant name <c>camera</c>).</summary>
    Camera = 1,
    /// <summary><c>MICROPHONE</c> (grant name <c>microphone</c>).</summary>
    Microphone = 2,
    /// <summary><c>SCREEN_SHARE</c> (grant name <c>screen_share</c>).</summary>
    ScreenShare = 3,
    /// <summary><c>SCREEN_SHARE_AUDIO</c> (grant name <c>screen_share_audio</c>).</summary>
    ScreenShareAudio = 4,
}

/// <summary>A track's media type (<c>livekit.TrackType</c>).</summary>
public enum TrackType
{
    /// <summary>A value this SDK does not know.</summary>
    Unrecognized = -1,
    /// <summary><c>AUDIO</c>.</summary>
    Audio = 0,
    /// <summary><c>VIDEO</c>.</summary>
    Video = 1,
    /// <summary><c>DATA</c>.</summary>
    Data = 2,
}

/// <summary>A participant's connection state (<c>livekit.ParticipantInfo.State</c>).</summary>
public enum ParticipantState
{
    /// <summary>A value this SDK does not know.</summary>
    Unrecognized = -1,
    /// <summary><c>JOINING</c>: websocket connected, not yet offered.</summary>
    Joining = 0,
    /// <summary><c>JOINED</c>: offer received.</summary>
    Joined = 1,
    /// <summary><c>ACTIVE</c>: media connected.</summary>
    Active = 2,
    /// <summary><c>DISCONNECTED</c>.</summary>
    Disconnected = 3,
}

/// <summary>What kind of participant this is (<c>livekit.ParticipantInfo.Kind</c>).</summary>
public enum ParticipantKind
{
    /// <summary>A value this SDK does not know.</summary>
    Unrecognized = -1,
    /// <summary><c>STANDARD</c>: an end user.</summary>
    Standard = 0,
    /// <summary><c>INGRESS</c>.</summary>
    Ingress = 1,
    /// <summary><c>EGRESS</c>.</summary>
    Egress = 2,
    /// <summary><c>SIP</c>.</summary>
    Sip = 3,
    /// <summary><c>AGENT</c>: e.g. our render worker (token kind <c>agent</c>).</summary>
    Agent = 4,
    /// <summary><c>CONNECTOR</c>.</summary>
    Connector = 7,
    /// <summary><c>BRIDGE</c>.</summary>
    Bridge = 8,
}

/// <summary>Why a participant left (<c>livekit.DisconnectReason</c>).</summary>
public enum DisconnectReason
{
    /// <summary>A value this SDK does not know.</summary>
    Unrecognized = -1,
    /// <summary><c>UNKNOWN_REASON</c>.</summary>
    UnknownReason = 0,
    /// <summary><c>CLIENT_INITIATED</c>: the client left.</summary>
    ClientInitiated = 1,
    /// <summary><c>DUPLICATE_IDENTITY</c>.</summary>
    DuplicateIdentity = 2,
    /// <summary><c>SERVER_SHUTDOWN</c>.</summary>
    ServerShutdown = 3,
    /// <summary><c>PARTICIPANT_REMOVED</c>: removed through RemoveParticipant.</summary>
    ParticipantRemoved = 4,
    /// <summary><c>ROOM_DELETED</c>.</summary>
    RoomDeleted = 5,
    /// <summary><c>STATE_MISMATCH</c>.</summary>
    StateMismatch = 6,
    /// <summary><c>JOIN_FAILURE</c>.</summary>
    JoinFailure = 7,
    /// <summary><c>MIGRATION</c>.</summary>
    Migration = 8,
    /// <summary><c>SIGNAL_CLOSE</c>.</summary>
    SignalClose = 9,
    /// <summary><c>ROOM_CLOSED</c>.</summary>
    RoomClosed = 10,
    /// <summary><c>USER_UNAVAILABLE</c>.</summary>
    UserUnavailable = 11,
    /// <summary><c>USER_REJECTED</c>.</summary>
    UserRejected = 12,
    /// <summary><c>SIP_TRUNK_FAILURE</c>.</summary>
    SipTrunkFailure = 13,
    /// <summary><c>CONNECTION_TIMEOUT</c>.</summary>
    ConnectionTimeout = 14,
    /// <summary><c>MEDIA_FAILURE</c>.</summary>
    MediaFailure = 15,
    /// <summary><c>AGENT_ERROR</c>.</summary>
    AgentError = 16,
}

/// <summary>Why a room ended (<c>livekit.RoomEndReason</c>, names prefixed <c>ROOM_END_</c>).</summary>
[ProtoEnumPrefix("ROOM_END_")]
public enum RoomEndReason
{
    /// <summary>A value this SDK does not know.</summary>
    Unrecognized = -1,
    /// <summary><c>ROOM_END_UNKNOWN</c>.</summary>
    Unknown = 0,
    /// <summary><c>ROOM_END_API_DELETE</c>: deleted through DeleteRoom.</summary>
    ApiDelete = 1,
    /// <summary><c>ROOM_END_IDLE_TIMEOUT</c>: empty or departure timeout.</summary>
    IdleTimeout = 2,
    /// <summary><c>ROOM_END_SERVER_SHUTDOWN</c>.</summary>
    ServerShutdown = 3,
    /// <summary><c>ROOM_END_SUPERSEDED</c>.</summary>
    Superseded = 4,
    /// <summary><c>ROOM_END_OPEN_FAILED</c>.</summary>
    OpenFailed = 5,
}

/// <summary>Delivery of a data packet (<c>livekit.DataPacket.Kind</c>).</summary>
public enum DataPacketKind
{
    /// <summary><c>RELIABLE</c>: ordered and retransmitted (the protobuf default).</summary>
    Reliable = 0,
    /// <summary><c>LOSSY</c>: unordered, may be dropped.</summary>
    Lossy = 1,
}
