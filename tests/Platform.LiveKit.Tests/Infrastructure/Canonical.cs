using System.Globalization;
using System.Text.Json.Nodes;
using Platform.LiveKit.Rooms;

namespace Platform.LiveKit.Tests.Infrastructure;

/// <summary>
/// Our parsed models in the form the official SDK's <c>toJson({useProtoFieldName, emitDefaultValues})</c> writes
/// (proto names, int64 as strings, enum names), limited to the fields we model, so the two parses can be compared.
/// </summary>
public static class Canonical
{
    public static JsonObject Room(LiveKitRoom r) => new()
    {
        ["sid"] = r.Sid,
        ["name"] = r.Name,
        ["empty_timeout"] = r.EmptyTimeoutSeconds,
        ["departure_timeout"] = r.DepartureTimeoutSeconds,
        ["max_participants"] = r.MaxParticipants,
        ["creation_time"] = I64(r.CreationTime),
        ["creation_time_ms"] = I64(r.CreationTimeMs),
        ["metadata"] = r.Metadata,
        ["num_participants"] = r.NumParticipants,
        ["num_publishers"] = r.NumPublishers,
        ["active_recording"] = r.ActiveRecording,
        ["enabled_codecs"] = new JsonArray([.. r.EnabledCodecs.Select(m => (JsonNode)new JsonObject { ["mime"] = m })]),
    };

    public static JsonObject Participant(LiveKitParticipant p)
    {
        var o = new JsonObject
        {
            ["sid"] = p.Sid,
            ["identity"] = p.Identity,
            ["state"] = Name(p.State),
            ["tracks"] = new JsonArray([.. p.Tracks.Select(t => (JsonNode)Track(t))]),
            ["metadata"] = p.Metadata,
            ["joined_at"] = I64(p.JoinedAt),
            ["joined_at_ms"] = I64(p.JoinedAtMs),
            ["name"] = p.Name,
            ["version"] = p.Version,
            ["region"] = p.Region,
            ["is_publisher"] = p.IsPublisher,
            ["kind"] = Name(p.Kind),
            ["attributes"] = new JsonObject([.. p.Attributes.Select(a => KeyValuePair.Create(a.Key, (JsonNode?)a.Value))]),
            ["disconnect_reason"] = Name(p.DisconnectReason),
        };
        if (p.Permission is { } perm)
        {
            o["permission"] = new JsonObject
            {
                ["can_subscribe"] = perm.CanSubscribe,
                ["can_publish"] = perm.CanPublish,
                ["can_publish_data"] = perm.CanPublishData,
                ["can_publish_sources"] = new JsonArray([.. perm.CanPublishSources.Select(s => (JsonNode)Name(s))]),
                ["hidden"] = perm.Hidden,
                ["can_update_metadata"] = perm.CanUpdateMetadata,
                ["agent"] = perm.Agent,
            };
        }
        return o;
    }

    public static JsonObject Track(LiveKitTrack t) => new()
    {
        ["sid"] = t.Sid,
        ["type"] = Name(t.Type),
        ["name"] = t.Name,
        ["muted"] = t.Muted,
        ["width"] = t.Width,
        ["height"] = t.Height,
        ["simulcast"] = t.Simulcast,
        ["source"] = Name(t.Source),
        ["mime_type"] = t.MimeType,
        ["mid"] = t.Mid,
        ["stereo"] = t.Stereo,
        ["stream"] = t.Stream,
    };

    /// <summary>Asserts every field in <paramref name="ours"/> equals the SDK's; the SDK may have more fields.</summary>
    public static void AssertSubset(JsonNode? ours, JsonNode? sdk, string path = "$")
    {
        switch (ours)
        {
            case JsonObject o:
                Assert.True(sdk is JsonObject, $"{path}: SDK has {sdk?.ToJsonString() ?? "null"}, we have an object");
                foreach (var (key, value) in o) AssertSubset(value, sdk![key], $"{path}.{key}");
                break;
            case JsonArray a:
                Assert.True(sdk is JsonArray sa && sa.Count == a.Count,
                    $"{path}: SDK has {sdk?.ToJsonString() ?? "null"}, we have {a.ToJsonString()}");
                for (var i = 0; i < a.Count; i++) AssertSubset(a[i], sdk![i], $"{path}[{i}]");
                break;
            default:
                Assert.True(JsonNode.DeepEquals(ours, sdk), $"{path}: SDK has {sdk?.ToJsonString() ?? "null"}, we have {ours?.ToJsonString() ?? "null"}");
                break;
        }
    }

    private static string I64(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>Our enum member as LiveKit's protobuf name (the same mapping the library uses).</summary>
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum => Protocol.ProtoEnum<TEnum>.Name(value);
}
