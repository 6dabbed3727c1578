using Platform.LiveKit.Rooms;

namespace Platform.LiveKit.Tokens;

/// <summary>
/// The <c>video</c> claim of a LiveKit access token. Written with LiveKit's camelCase names; a <c>false</c> plain
/// flag and a <c>null</c> optional flag are omitted. The nullable flags are tri-state in LiveKit: absent means the
/// server default (allowed when joining), so an explicit <c>false</c> is written.
/// </summary>
public sealed record VideoGrant
{
    /// <summary><c>roomCreate</c>: may create and delete rooms.</summary>
    public bool RoomCreate { get; init; }
    /// <summary><c>roomJoin</c>: may join <see cref="Room"/>.</summary>
    public bool RoomJoin { get; init; }
    /// <summary><c>roomList</c>: may list rooms.</summary>
    public bool RoomList { get; init; }
    /// <summary><c>roomRecord</c>: may use egress.</summary>
    public bool RoomRecord { get; init; }
    /// <summary><c>roomAdmin</c>: may administer <see cref="Room"/> (participants, metadata, data).</summary>
    public bool RoomAdmin { get; init; }
    /// <summary><c>room</c>: the room this grant is for.</summary>
    public string? Room { get; init; }
    /// <summary><c>ingressAdmin</c>.</summary>
    public bool IngressAdmin { get; init; }
    /// <summary><c>canPublish</c>.</summary>
    public bool? CanPublish { get; init; }
    /// <summary><c>canPublishSources</c>: written as <c>camera</c>, <c>microphone</c>, <c>screen_share</c>, <c>screen_share_audio</c>.</summary>
    public IReadOnlyList<TrackSource>? CanPublishSources { get; init; }
    /// <summary><c>canSubscribe</c>.</summary>
    public bool? CanSubscribe { get; init; }
    /// <summary><c>canPublishData</c>.</summary>
    public bool? CanPublishData { get; init; }
    /// <summary><c>canUpdateOwnMetadata</c>.</summary>
    public bool? CanUpdateOwnMetadata { get; init; }
    /// <summary><c>hidden</c>: invisible to other participants.</summary>
    public bool Hidden { get; init; }
    /// <summary><c>recorder</c>.</summary>
    public bool Recorder { get; init; }
    /// <summary><c>agent</c>: marks the participant as an agent.</summary>
    public bool Agent { get; init; }
    /// <summary><c>canSubscribeMetrics</c>.</summary>
    public bool? CanSubscribeMetrics { get; init; }
    /// <summary><c>canManageAgentSession</c>.</summary>
    public bool? CanManageAgentSession { get; init; }
    /// <summary><c>destinationRoom</c>: for moving or forwarding participants.</summary>
    public string? DestinationRoom { get; init; }

    /// <summary>Whether no field is set (such a grant is omitted from the token).</summary>
    public bool IsEmpty => !(RoomCreate || RoomJoin || RoomList || RoomRecord || RoomAdmin || !string.IsNullOrEmpty(Room) ||
        IngressAdmin || CanPublish.HasValue || CanPublishSources is { Count: > 0 } || CanSubscribe.HasValue ||
        CanPublishData.HasValue || CanUpdateOwnMetadata.HasValue || Hidden || Recorder || Agent ||
        CanSubscribeMetrics.HasValue || CanManageAgentSession.HasValue || !string.IsNullOrEmpty(DestinationRoom));

    /// <summary>Grant equality including the list of sources (records compare lists by reference).</summary>
    public bool Equals(VideoGrant? other) =>
        other is not null && RoomCreate == other.RoomCreate && RoomJoin == other.RoomJoin && RoomList == other.RoomList &&
        RoomRecord == other.RoomRecord && RoomAdmin == other.RoomAdmin && Room == other.Room && IngressAdmin == other.IngressAdmin &&
        CanPublish == other.CanPublish && CanSubscribe == other.CanSubscribe && CanPublishData == other.CanPublishData &&
        CanUpdateOwnMetadata == other.CanUpdateOwnMetadata && Hidden == other.Hidden && Recorder == other.Recorder &&
        Agent == other.Agent && CanSubscribeMetrics == other.CanSubscribeMetrics &&
        CanManageAgentSession == other.CanManageAgentSession && DestinationRoom == other.DestinationRoom &&
        (CanPublishSources ?? []).SequenceEqual(other.CanPublishSources ?? []) && (CanPublishSources is null) == (other.CanPublishSources is null);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(RoomJoin, Room, RoomAdmin, RoomCreate, RoomList, CanPublish, Agent);

    /// <summary>Only <c>roomCreate</c>: what CreateRoom and DeleteRoom need.</summary>
    public static VideoGrant ForRoomCreate() => new() { RoomCreate = true };

    /// <summary>Only <c>roomList</c>: what ListRooms needs.</summary>
    public static VideoGrant ForRoomList() => new() { RoomList = true };

    /// <summary><c>roomAdmin</c> for one room: what the per-room calls need.</summary>
    public static VideoGrant ForRoomAdmin(string room) => new() { RoomAdmin = true, Room = room };
}
