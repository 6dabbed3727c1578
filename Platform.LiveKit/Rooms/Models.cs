using System.Text.Json;
using Platform.LiveKit.Protocol;
using static Platform.LiveKit.Protocol.ProtoJson;

namespace Platform.LiveKit.Rooms;

/// <summary>A LiveKit room (<c>livekit.Room</c>) as the server reports it.</summary>
/// <param name="Sid">Server-assigned room id (<c>RM_...</c>).</param>
/// <param name="Name">The room name (ours: one per conversation).</param>
/// <param name="EmptyTimeoutSeconds">Seconds the room stays open with nobody in it before it closes.</param>
/// <param name="DepartureTimeoutSeconds">Seconds the room stays open after the last participant left.</param>
/// <param name="MaxParticipants">Participant limit; 0 means no limit.</param>
/// <param name="CreationTime">Creation time, Unix seconds.</param>
/// <param name="CreationTimeMs">Creation time, Unix milliseconds (0 from servers that predate the field).</param>
/// <param name="Metadata">Room metadata (opaque text).</param>
/// <param name="NumParticipants">Participants in the room now.</param>
/// <param name="NumPublishers">Participants publishing now.</param>
/// <param name="ActiveRecording">Whether an egress records the room.</param>
/// <param name="EnabledCodecs">Codec MIME types the room allows.</param>
public sealed record LiveKitRoom(
    string Sid,
    string Name,
    uint EmptyTimeoutSeconds,
    uint DepartureTimeoutSeconds,
    uint MaxParticipants,
    long CreationTime,
    long CreationTimeMs,
    string Metadata,
    uint NumParticipants,
    uint NumPublishers,
    bool ActiveRecording,
    IReadOnlyList<string> EnabledCodecs)
{
    /// <summary>The creation time as an instant (millisecond precision when the server sent it).</summary>
    public DateTimeOffset CreatedAt =>
        CreationTimeMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(CreationTimeMs) : DateTimeOffset.FromUnixTimeSeconds(CreationTime);

    internal static LiveKitRoom Read(JsonElement e) => new(
        String(e, "sid"), String(e, "name"), UInt32(e, "empty_timeout"), UInt32(e, "departure_timeout"),
        UInt32(e, "max_participants"), Int64(e, "creation_time"), Int64(e, "creation_time_ms"), String(e, "metadata"),
        UInt32(e, "num_participants"), UInt32(e, "num_publishers"), Bool(e, "active_recording"),
        List(e, "enabled_codecs", c => String(c, "mime")));
}

/// <summary>What a participant may do (<c>livekit.ParticipantPermission</c>).</summary>
/// <param name="CanSubscribe">May subscribe to tracks.</param>
/// <param name="CanPublish">May publish tracks.</param>
/// <param name="CanPublishData">May publish data packets.</param>
/// <param name="CanPublishSources">Sources it may publish; empty means all.</param>
/// <param name="Hidden">Hidden from other participants.</param>
/// <param name="CanUpdateMetadata">May update its own metadata.</param>
/// <param name="Agent">Marked as an agent.</param>
public sealed record ParticipantPermission(
    bool CanSubscribe,
    bool CanPublish,
    bool CanPublishData,
    IReadOnlyList<TrackSource> CanPublishSources,
    bool Hidden,
    bool CanUpdateMetadata,
    bool Agent)
{
    internal static ParticipantPermission Read(JsonElement e) => new(
        Bool(e, "can_subscribe"), Bool(e, "can_publish"), Bool(e, "can_publish_data"),
        EnumList<TrackSource>(e, "can_publish_sources"), Bool(e, "hidden"), Bool(e, "can_update_metadata"), Bool(e, "agent"));
}

/// <summary>A published track (<c>livekit.TrackInfo</c>).</summary>
/// <param name="Sid">Track id (<c>TR_...</c>).</param>
/// <param name="Type">Audio, video or data.</param>
/// <param name="Name">Name given by the publisher.</param>
/// <param name="Muted">Whether the publisher muted it.</param>
/// <param name="Width">Video width in pixels (0 for audio).</param>
/// <param name="Height">Video height in pixels (0 for audio).</param>
/// <param name="Simulcast">Whether it is simulcast.</param>
/// <param name="Source">Camera, microphone, screen share...</param>
/// <param name="MimeType">Codec MIME type, e.g. <c>audio/opus</c>.</param>
/// <param name="Mid">SDP media id.</param>
/// <param name="Stereo">Stereo audio.</param>
/// <param name="Stream">Stream name that groups tracks.</param>
public sealed record LiveKitTrack(
    string Sid,
    TrackType Type,
    string Name,
    bool Muted,
    uint Width,
    uint Height,
    bool Simulcast,
    TrackSource Source,
    string MimeType,
    string Mid,
    bool Stereo,
    string Stream)
{
    internal static LiveKitTrack Read(JsonElement e) => new(
        String(e, "sid"), ProtoJson.Enum<TrackType>(e, "type"), String(e, "name"), Bool(e, "muted"), UInt32(e, "width"),
        UInt32(e, "height"), Bool(e, "simulcast"), ProtoJson.Enum<TrackSource>(e, "source"), String(e, "mime_type"),
        String(e, "mid"), Bool(e, "stereo"), String(e, "stream"));
}

/// <summary>A participant in a room (<c>livekit.ParticipantInfo</c>).</summary>
/// <param name="Sid">Participant session id (<c>PA_...</c>), new on every join.</param>
/// <param name="Identity">The identity from its token (stable across reconnects).</param>
/// <param name="State">Connection state.</param>
/// <param name="Tracks">Tracks it publishes.</param>
/// <param name="Metadata">Participant metadata.</param>
/// <param name="JoinedAt">Join time, Unix seconds.</param>
/// <param name="JoinedAtMs">Join time, Unix milliseconds (0 from servers that predate the field).</param>
/// <param name="Name">Display name.</param>
/// <param name="Version">Version of this info, increasing with every change.</param>
/// <param name="Permission">Its permissions, when reported.</param>
/// <param name="Region">The region it connected through.</param>
/// <param name="IsPublisher">Whether it publishes any track.</param>
/// <param name="Kind">Standard (end user), agent, egress...</param>
/// <param name="Attributes">Participant attributes.</param>
/// <param name="DisconnectReason">Why it left, on departure.</param>
public sealed record LiveKitParticipant(
    string Sid,
    string Identity,
    ParticipantState State,
    IReadOnlyList<LiveKitTrack> Tracks,
    string Metadata,
    long JoinedAt,
    long JoinedAtMs,
    string Name,
    uint Version,
    ParticipantPermission? Permission,
    string Region,
    bool IsPublisher,
    ParticipantKind Kind,
    IReadOnlyDictionary<string, string> Attributes,
    DisconnectReason DisconnectReason)
{
    internal static LiveKitParticipant Read(JsonElement e) => new(
        String(e, "sid"), String(e, "identity"), ProtoJson.Enum<ParticipantState>(e, "state"),
        List(e, "tracks", LiveKitTrack.Read), String(e, "metadata"), Int64(e, "joined_at"), Int64(e, "joined_at_ms"),
        String(e, "name"), UInt32(e, "version"), Message(e, "permission", ParticipantPermission.Read), String(e, "region"),
        Bool(e, "is_publisher"), ProtoJson.Enum<ParticipantKind>(e, "kind"), Map(e, "attributes"),
        ProtoJson.Enum<DisconnectReason>(e, "disconnect_reason"));
}
