using System.Text.Json;
using Platform.LiveKit.Protocol;
using Platform.LiveKit.Rooms;

namespace Platform.LiveKit.Webhooks;

/// <summary>A verified LiveKit webhook event (<c>livekit.WebhookEvent</c>).</summary>
/// <param name="Id">The event id LiveKit assigns (<c>EV_...</c>); used to reject replays.</param>
/// <param name="Name">The raw event name, e.g. <c>participant_joined</c>.</param>
/// <param name="CreatedAt">When LiveKit created the event (whole seconds).</param>
/// <param name="Room">The room it concerns.</param>
public abstract record WebhookEvent(string Id, string Name, DateTimeOffset CreatedAt, LiveKitRoom? Room)
{
    /// <summary>Event names LiveKit sends.</summary>
    public static class Names
    {
        /// <summary>A room was created.</summary>
        public const string RoomStarted = "room_started";
        /// <summary>A room ended.</summary>
        public const string RoomFinished = "room_finished";
        /// <summary>A participant joined.</summary>
        public const string ParticipantJoined = "participant_joined";
        /// <summary>A participant left.</summary>
        public const string ParticipantLeft = "participant_left";
        /// <summary>A participant's connection failed before it joined.</summary>
        public const string ParticipantConnectionAborted = "participant_connection_aborted";
        /// <summary>A participant published a track.</summary>
        public const string TrackPublished = "track_published";
        /// <summary>A participant unpublished a track.</summary>
        public const string TrackUnpublished = "track_unpublished";
    }

    internal static WebhookEvent Read(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new FormatException("The webhook body is not a JSON object.");
        var name = ProtoJson.String(e, "event");
        var id = ProtoJson.String(e, "id");
        var createdAt = DateTimeOffset.FromUnixTimeSeconds(ProtoJson.Int64(e, "created_at"));
        var room = ProtoJson.Message(e, "room", LiveKitRoom.Read);
        var participant = ProtoJson.Message(e, "participant", LiveKitParticipant.Read);
        var track = ProtoJson.Message(e, "track", LiveKitTrack.Read);
        return name switch
        {
            Names.RoomStarted => new RoomStartedEvent(id, createdAt, Need(room, name, "room")),
            Names.RoomFinished => new RoomFinishedEvent(id, createdAt, Need(room, name, "room"),
                ProtoJson.Enum<RoomEndReason>(e, "room_end_reason")),
            Names.ParticipantJoined => new ParticipantJoinedEvent(id, createdAt, Need(room, name, "room"), Need(participant, name, "participant")),
            Names.ParticipantLeft => new ParticipantLeftEvent(id, createdAt, Need(room, name, "room"), Need(participant, name, "participant")),
            Names.ParticipantConnectionAborted => new ParticipantConnectionAbortedEvent(id, createdAt, Need(room, name, "room"),
                Need(participant, name, "participant")),
            Names.TrackPublished => new TrackPublishedEvent(id, createdAt, Need(room, name, "room"), Need(participant, name, "participant"),
                Need(track, name, "track")),
            Names.TrackUnpublished => new TrackUnpublishedEvent(id, createdAt, Need(room, name, "room"), Need(participant, name, "participant"),
                Need(track, name, "track")),
            _ => new UnknownWebhookEvent(id, name, createdAt, room, participant, track, e.Clone()),
        };
    }

    private static T Need<T>(T? value, string eventName, string field) where T : class =>
        value ?? throw new FormatException($"LiveKit event '{eventName}' has no '{field}'.");
}

/// <summary><c>room_started</c>.</summary>
public sealed record RoomStartedEvent(string Id, DateTimeOffset CreatedAt, LiveKitRoom Room)
    : WebhookEvent(Id, Names.RoomStarted, CreatedAt, Room)
{
    /// <summary>The room.</summary>
    public new LiveKitRoom Room => base.Room!;
}

/// <summary><c>room_finished</c>, with the reason when the server reports it.</summary>
public sealed record RoomFinishedEvent(string Id, DateTimeOffset CreatedAt, LiveKitRoom Room, RoomEndReason EndReason)
    : WebhookEvent(Id, Names.RoomFinished, CreatedAt, Room)
{
    /// <summary>The room.</summary>
    public new LiveKitRoom Room => base.Room!;
}

/// <summary>An event about one participant.</summary>
public abstract record ParticipantEvent(string Id, string Name, DateTimeOffset CreatedAt, LiveKitRoom Room, LiveKitParticipant Participant)
    : WebhookEvent(Id, Name, CreatedAt, Room)
{
    /// <summary>The room.</summary>
    public new LiveKitRoom Room => base.Room!;
}

/// <summary><c>participant_joined</c>.</summary>
public sealed record ParticipantJoinedEvent(string Id, DateTimeOffset CreatedAt, LiveKitRoom Room, LiveKitParticipant Participant)
    : ParticipantEvent(Id, Names.ParticipantJoined, CreatedAt, Room, Participant);

/// <summary><c>participant_left</c>; <see cref="LiveKitParticipant.DisconnectReason"/> says why.</summary>
public sealed record ParticipantLeftEvent(string Id, DateTimeOffset CreatedAt, LiveKitRoom Room, LiveKitParticipant Participant)
    : ParticipantEvent(Id, Names.ParticipantLeft, CreatedAt, Room, Participant);

/// <summary><c>participant_connection_aborted</c>: the participant never fully joined.</summary>
public sealed record ParticipantConnectionAbortedEvent(string Id, DateTimeOffset CreatedAt, LiveKitRoom Room, LiveKitParticipant Participant)
    : ParticipantEvent(Id, Names.ParticipantConnectionAborted, CreatedAt, Room, Participant);

/// <summary><c>track_published</c>.</summary>
public sealed record TrackPublishedEvent(string Id, DateTimeOffset CreatedAt, LiveKitRoom Room, LiveKitParticipant Participant, LiveKitTrack Track)
    : ParticipantEvent(Id, Names.TrackPublished, CreatedAt, Room, Participant);

/// <summary><c>track_unpublished</c>.</summary>
public sealed record TrackUnpublishedEvent(string Id, DateTimeOffset CreatedAt, LiveKitRoom Room, LiveKitParticipant Participant, LiveKitTrack Track)
    : ParticipantEvent(Id, Names.TrackUnpublished, CreatedAt, Room, Participant);

/// <summary>Any other event (<c>egress_*</c>, <c>ingress_*</c>, names added later): verified, with its raw JSON.</summary>
/// <param name="Id">The event id.</param>
/// <param name="Name">The raw event name.</param>
/// <param name="CreatedAt">When LiveKit created it.</param>
/// <param name="Room">The room, when present.</param>
/// <param name="Participant">The participant, when present.</param>
/// <param name="Track">The track, when present.</param>
/// <param name="Raw">The whole event as sent.</param>
public sealed record UnknownWebhookEvent(
    string Id, string Name, DateTimeOffset CreatedAt, LiveKitRoom? Room, LiveKitParticipant? Participant, LiveKitTrack? Track, JsonElement Raw)
    : WebhookEvent(Id, Name, CreatedAt, Room);
