using System.Text.Json.Nodes;

namespace Platform.Contracts.Json;

/// <summary>
/// The JSON the API returns for each resource, in CVI v2's snake_case shapes. One place: the grains store the list
/// views in the index with these, and the Api renders single resources with them.
/// </summary>
public static class CviViews
{
    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A replica.</summary>
    public static JsonObject Replica(ReplicaInfo r)
    {
        var o = new JsonObject
        {
            ["replica_id"] = r.Id.Local,
            ["replica_name"] = r.Name,
            ["replica_type"] = r.Type,
            ["status"] = r.Status,
            ["training_progress"] = $"{r.TrainingProgress}/100",
            ["created_at"] = Time(r.CreatedAt),
            ["updated_at"] = Time(r.UpdatedAt),
        };
        var doc = JsonNode.Parse(r.DocumentJson) as JsonObject ?? [];
        foreach (var name in new[] { "model_name", "train_video_url", "consent_video_url", "callback_url", "properties" })
        {
            if (doc[name] is { } v)
            {
                o[name] = v.DeepClone();
            }
        }
        if (r.Message is not null)
        {
            o["error_message"] = r.Message;
        }
        return o;
    }

    /// <summary>A persona: its stored document (secrets already removed) plus ids, times and warnings.</summary>
    public static JsonObject Persona(PersonaInfo p)
    {
        var o = new JsonObject { ["persona_id"] = p.Id.Local };
        foreach (var (name, value) in JsonNode.Parse(p.DocumentJson) as JsonObject ?? [])
        {
            o[name] = value?.DeepClone();
        }
        o["created_at"] = Time(p.CreatedAt);
        o["updated_at"] = Time(p.UpdatedAt);
        o["warnings"] = new JsonArray([.. p.Warnings.Select(w => (JsonNode)w)]);
        return o;
    }

    /// <summary>A conversation; <paramref name="verbose"/> adds shutdown reason, events and transcript.</summary>
    public static JsonObject Conversation(ConversationInfo c, bool verbose = false)
    {
        var doc = JsonNode.Parse(c.DocumentJson) as JsonObject ?? [];
        var o = new JsonObject
        {
            ["conversation_id"] = c.Id.Local,
            ["conversation_name"] = doc["conversation_name"]?.DeepClone() ?? $"Conversation {c.Id.Local}",
            ["status"] = c.Status,
            ["conversation_url"] = c.Url,
            ["replica_id"] = c.Replica?.Local,
            ["persona_id"] = c.Persona?.Local,
            ["callback_url"] = doc["callback_url"]?.DeepClone(),
            ["created_at"] = Time(c.CreatedAt),
            ["updated_at"] = Time(c.UpdatedAt),
        };
        foreach (var (name, value) in doc)
        {
            if (!o.ContainsKey(name))
            {
                o[name] = value?.DeepClone();
            }
        }
        if (c.MeetingToken is not null)
        {
            o["meeting_token"] = c.MeetingToken;
        }
        if (c.LiveKitUrl is not null)
        {
            // What the conversation page needs to join the room; the token only on the create and get answers.
            var livekit = new JsonObject { ["url"] = c.LiveKitUrl, ["room"] = c.LiveKitRoom };
            if (c.LiveKitToken is not null)
            {
                livekit["token"] = c.LiveKitToken;
                livekit["token_expires_at"] = c.LiveKitTokenExpiresAt is { } exp ? Time(exp) : null;
            }
            o["livekit"] = livekit;
        }
        o["warnings"] = new JsonArray([.. c.Warnings.Select(w => (JsonNode)w)]);
        if (c.ShutdownReason is not null || verbose)
        {
            o["shutdown_reason"] = c.ShutdownReason;
        }
        if (verbose)
        {
            o["events"] = new JsonArray([.. (c.Events ?? []).Select(e => (JsonNode)Event(c.Id, e))]);
            o["transcript"] = new JsonArray([.. (c.Transcript ?? []).Select(t => (JsonNode)new JsonObject
            {
                ["role"] = t.Role,
                ["content"] = t.Content,
                ["timestamp"] = Time(t.Timestamp),
            })]);
        }
        return o;
    }

    /// <summary>One event in the CVI envelope.</summary>
    public static JsonObject Event(ConversationId id, ConversationEvent e) => new()
    {
        ["conversation_id"] = id.Local,
        ["event_type"] = e.EventType,
        ["message_type"] = e.MessageType,
        ["seq"] = e.Seq,
        ["turn_idx"] = e.TurnIdx,
        ["inference_id"] = e.InferenceId,
        ["timestamp"] = Time(e.Timestamp),
        ["properties"] = JsonNode.Parse(e.PropertiesJson),
    };
}
