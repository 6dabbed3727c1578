using System.Text.Json;
using Platform.LiveKit.Protocol;
using Platform.LiveKit.Rooms;

namespace Platform.LiveKit.Tokens;

/// <summary>Writes and reads LiveKit's JWT claims exactly (camelCase, empty values omitted).</summary>
internal static class ClaimsJson
{
    public static byte[] Write(string issuer, DateTimeOffset notBefore, DateTimeOffset expires, TokenGrants g)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("iss", issuer);
            if (!string.IsNullOrEmpty(g.Identity)) w.WriteString("sub", g.Identity);
            w.WriteNumber("nbf", notBefore.ToUnixTimeSeconds());
            w.WriteNumber("exp", expires.ToUnixTimeSeconds());
            WriteIfSet(w, "name", g.Name);
            WriteIfSet(w, "kind", g.Kind);
            WriteIfSet(w, "metadata", g.Metadata);
            if (g.Attributes is { Count: > 0 })
            {
                w.WriteStartObject("attributes");
                foreach (var (k, v) in g.Attributes) w.WriteString(k, v);
                w.WriteEndObject();
            }
            WriteIfSet(w, "sha256", g.Sha256);
            if (g.Video is { IsEmpty: false } video) WriteVideo(w, video);
            if (g.RoomConfig is { } rc)
            {
                w.WriteStartObject("roomConfig");
                WriteIfSet(w, "name", rc.Name);
                if (rc.EmptyTimeout != 0) w.WriteNumber("emptyTimeout", rc.EmptyTimeout);
                if (rc.DepartureTimeout != 0) w.WriteNumber("departureTimeout", rc.DepartureTimeout);
                if (rc.MaxParticipants != 0) w.WriteNumber("maxParticipants", rc.MaxParticipants);
                WriteIfSet(w, "metadata", rc.Metadata);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteVideo(Utf8JsonWriter w, VideoGrant v)
    {
        w.WriteStartObject("video");
        Flag(w, "roomCreate", v.RoomCreate);
        Flag(w, "roomJoin", v.RoomJoin);
        Flag(w, "roomList", v.RoomList);
        Flag(w, "roomRecord", v.RoomRecord);
        Flag(w, "roomAdmin", v.RoomAdmin);
        WriteIfSet(w, "room", v.Room);
        Flag(w, "ingressAdmin", v.IngressAdmin);
        Flag(w, "canPublish", v.CanPublish);
        if (v.CanPublishSources is { Count: > 0 } sources)
        {
            w.WriteStartArray("canPublishSources");
            foreach (var s in sources) w.WriteStringValue(SourceName(s));
            w.WriteEndArray();
        }
        Flag(w, "canSubscribe", v.CanSubscribe);
        Flag(w, "canPublishData", v.CanPublishData);
        Flag(w, "canUpdateOwnMetadata", v.CanUpdateOwnMetadata);
        Flag(w, "hidden", v.Hidden);
        Flag(w, "recorder", v.Recorder);
        Flag(w, "agent", v.Agent);
        Flag(w, "canSubscribeMetrics", v.CanSubscribeMetrics);
        Flag(w, "canManageAgentSession", v.CanManageAgentSession);
        WriteIfSet(w, "destinationRoom", v.DestinationRoom);
        w.WriteEndObject();
    }

    public static string SourceName(TrackSource s) => s switch
    {
        TrackSource.Camera => "camera",
        TrackSource.Microphone => "microphone",
        TrackSource.ScreenShare => "screen_share",
        TrackSource.ScreenShareAudio => "screen_share_audio",
        _ => throw new ArgumentOutOfRangeException(nameof(s), s, "Only camera, microphone, screen_share and screen_share_audio can be granted."),
    };

    private static TrackSource ParseSource(string name) => name.ToLowerInvariant() switch
    {
        "camera" => TrackSource.Camera,
        "microphone" => TrackSource.Microphone,
        "screen_share" => TrackSource.ScreenShare,
        "screen_share_audio" => TrackSource.ScreenShareAudio,
        _ => TrackSource.Unrecognized,
    };

    private static void Flag(Utf8JsonWriter w, string name, bool value)
    {
        if (value) w.WriteBoolean(name, true);
    }

    private static void Flag(Utf8JsonWriter w, string name, bool? value)
    {
        if (value is { } v) w.WriteBoolean(name, v);
    }

    private static void WriteIfSet(Utf8JsonWriter w, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value)) w.WriteString(name, value);
    }

    /// <summary>Reads verified claims. Throws <see cref="FormatException"/> or <see cref="JsonException"/> on a bad shape.</summary>
    public static VerifiedToken Read(ReadOnlySpan<byte> payload)
    {
        using var doc = JsonDocument.Parse(payload.ToArray());
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new FormatException("JWT payload is not an object.");
        var grants = new TokenGrants
        {
            Identity = OptString(root, "sub"),
            Name = OptString(root, "name"),
            Kind = OptString(root, "kind"),
            Metadata = OptString(root, "metadata"),
            Attributes = root.TryGetProperty("attributes", out _) ? ProtoJson.Map(root, "attributes") : null,
            Sha256 = OptString(root, "sha256"),
            Video = root.TryGetProperty("video", out var v) && v.ValueKind == JsonValueKind.Object ? ReadVideo(v) : null,
            RoomConfig = root.TryGetProperty("roomConfig", out var rc) && rc.ValueKind == JsonValueKind.Object
                ? new RoomConfiguration
                {
                    Name = OptString(rc, "name"),
                    EmptyTimeout = ProtoJson.UInt32(rc, "empty_timeout"),
                    DepartureTimeout = ProtoJson.UInt32(rc, "departure_timeout"),
                    MaxParticipants = ProtoJson.UInt32(rc, "max_participants"),
                    Metadata = OptString(rc, "metadata"),
                }
                : null,
        };
        return new VerifiedToken(
            OptString(root, "iss") ?? "",
            root.TryGetProperty("nbf", out var nbf) ? DateTimeOffset.FromUnixTimeSeconds(nbf.GetInt64()) : null,
            root.TryGetProperty("exp", out var exp) ? DateTimeOffset.FromUnixTimeSeconds(exp.GetInt64()) : null,
            grants);
    }

    private static VideoGrant ReadVideo(JsonElement v) => new()
    {
        RoomCreate = OptBool(v, "roomCreate") ?? false,
        RoomJoin = OptBool(v, "roomJoin") ?? false,
        RoomList = OptBool(v, "roomList") ?? false,
        RoomRecord = OptBool(v, "roomRecord") ?? false,
        RoomAdmin = OptBool(v, "roomAdmin") ?? false,
        Room = OptString(v, "room"),
        IngressAdmin = OptBool(v, "ingressAdmin") ?? false,
        CanPublish = OptBool(v, "canPublish"),
        CanPublishSources = v.TryGetProperty("canPublishSources", out var s) && s.ValueKind == JsonValueKind.Array
            ? s.EnumerateArray().Select(e => ParseSource(e.GetString() ?? "")).ToArray()
            : null,
        CanSubscribe = OptBool(v, "canSubscribe"),
        CanPublishData = OptBool(v, "canPublishData"),
        CanUpdateOwnMetadata = OptBool(v, "canUpdateOwnMetadata"),
        Hidden = OptBool(v, "hidden") ?? false,
        Recorder = OptBool(v, "recorder") ?? false,
        Agent = OptBool(v, "agent") ?? false,
        CanSubscribeMetrics = OptBool(v, "canSubscribeMetrics"),
        CanManageAgentSession = OptBool(v, "canManageAgentSession"),
        DestinationRoom = OptString(v, "destinationRoom"),
    };

    private static string? OptString(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } s ? s : null;

    private static bool? OptBool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => null,
        } : null;
}
