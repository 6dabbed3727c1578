using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Render.Audio;
using Platform.Render.Sessions;

namespace Platform.Render.Worker.Media;

/// <summary>A message from the page or the embedding app, parsed (docs/media-protocol.md).</summary>
public abstract record InCallCommand
{
    public sealed record Hello(int SampleRate, bool AudioOnly, string? ClientId) : InCallCommand;
    public sealed record Preview : InCallCommand;
    public sealed record Playback(TimeSpan MediaTime, TimeSpan? Queued = null, TimeSpan? Starved = null) : InCallCommand;
    public sealed record KeyframeRequest : InCallCommand;
    public sealed record Echo(string Text) : InCallCommand;

    /// <summary><c>conversation.echo</c> with base64 <c>audio</c>: 16-bit mono PCM; <see cref="Done"/> ends the utterance.</summary>
    public sealed record EchoAudio(short[] Pcm, int SampleRate, bool Done, string? InferenceId) : InCallCommand;
    public sealed record Respond(string Text) : InCallCommand;
    public sealed record Interrupt : InCallCommand;
    public sealed record Context(string Text, bool Append) : InCallCommand;
    public sealed record ToolResult(string ToolCallId, string Content) : InCallCommand;

    /// <summary>Not understood: <see cref="Code"/> and a message naming the problem go back as <c>system.error</c>.</summary>
    public sealed record Invalid(string Code, string Message) : InCallCommand;
}

/// <summary>The JSON of the in-call protocol: parsing what comes in, writing what goes out.</summary>
public static class InCallMessages
{
    /// <summary>The largest text message accepted (room for <see cref="MaxEchoAudioBytes"/> of audio in base64).</summary>
    public const int MaxTextBytes = 1536 * 1024;

    /// <summary>The most PCM one <c>conversation.echo</c> message may carry (about 32 s at 16 kHz); longer audio comes in pieces.</summary>
    public const int MaxEchoAudioBytes = 1024 * 1024;

    /// <summary>The sample rate of echo audio when the message names none (as the CVI protocol documents).</summary>
    public const int DefaultEchoSampleRate = 16_000;

    private const int MaxText = 20_000;

    public static InCallCommand Parse(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxTextBytes)
        {
            return new InCallCommand.Invalid("message.too_large", $"A message may be at most {MaxTextBytes} bytes; this one is {utf8.Length}.");
        }
        JsonObject? message;
        try
        {
            message = JsonNode.Parse(utf8) as JsonObject;
        }
        catch (JsonException e)
        {
            return new InCallCommand.Invalid("message.malformed", $"The message is not valid JSON: {e.Message}");
        }
        if (message is null)
        {
            return new InCallCommand.Invalid("message.malformed", "A message must be a JSON object with 'message_type' and 'event_type'.");
        }
        var type = Str(message, "event_type");
        var props = message["properties"] as JsonObject ?? [];
        return type switch
        {
            null => new InCallCommand.Invalid("message.malformed", "'event_type' is required."),
            "system.hello" => new InCallCommand.Hello(Int(props, "sample_rate") ?? 48_000, Bool(props, "audio_only"), Str(props, "client_id")),
            "system.playback" => ParsePlayback(props),
            "system.keyframe_request" => new InCallCommand.KeyframeRequest(),
            "system.preview" => new InCallCommand.Preview(),
            "conversation.echo" => ParseEcho(props),
            "conversation.respond" => Text(props, "text") is { } said ? new InCallCommand.Respond(said) : Missing(type, "text"),
            "conversation.interrupt" => new InCallCommand.Interrupt(),
            "conversation.overwrite_llm_context" => Text(props, "context") is { } c ? new InCallCommand.Context(c, Append: false) : Missing(type, "context"),
            "conversation.append_llm_context" => Text(props, "context") is { } a ? new InCallCommand.Context(a, Append: true) : Missing(type, "context"),
            "conversation.tool_result" => Str(props, "tool_call_id") is { } id && props["content"] is { } content
                ? new InCallCommand.ToolResult(id, content is JsonValue v && v.TryGetValue<string>(out var s) ? s : content.ToJsonString())
                : new InCallCommand.Invalid("message.invalid", "'conversation.tool_result' needs 'properties.tool_call_id' and 'properties.content'."),
            _ => new InCallCommand.Invalid("message.unknown", $"Unknown event_type '{type}'."),
        };
    }

    private static InCallCommand ParsePlayback(JsonObject props)
    {
        if (Num(props, "media_time") is not { } t || t < 0 || t >= 1e7)
        {
            return new InCallCommand.Invalid("message.invalid", "'system.playback' needs 'properties.media_time' in seconds (a number ≥ 0).");
        }
        TimeSpan? queued = null, starved = null;
        if (props["queued"] is not null)
        {
            if (Num(props, "queued") is not { } q || q < 0 || q > 60)
            {
                return new InCallCommand.Invalid("message.invalid", "'system.playback' 'properties.queued' must be the seconds of audio queued behind 'media_time' (a number from 0 to 60).");
            }
            queued = TimeSpan.FromSeconds(q);
        }
        if (props["starved"] is not null)
        {
            if (Num(props, "starved") is not { } d || d < 0 || d >= 1e7)
            {
                return new InCallCommand.Invalid("message.invalid", "'system.playback' 'properties.starved' must be the seconds the page's playback has run dry so far (a number ≥ 0).");
            }
            starved = TimeSpan.FromSeconds(d);
        }
        return new InCallCommand.Playback(TimeSpan.FromSeconds(t), queued, starved);
    }

    private static InCallCommand ParseEcho(JsonObject props)
    {
        var modality = Str(props, "modality");
        if (modality is not (null or "text" or "audio"))
        {
            return new InCallCommand.Invalid("message.invalid", $"'conversation.echo' 'properties.modality' must be 'text' or 'audio', not '{modality}'.");
        }
        if (modality == "text" || (modality is null && props["audio"] is null))
        {
            return Text(props, "text") is { } text ? new InCallCommand.Echo(text) : Missing("conversation.echo", "text");
        }
        if (Str(props, "audio") is not { } base64)
        {
            return new InCallCommand.Invalid("message.invalid", "'conversation.echo' with audio needs 'properties.audio': base64 of 16-bit little-endian mono PCM.");
        }
        var done = false;
        if (props["done"] is { } doneNode && !TryFlag(doneNode, out done))
        {
            return new InCallCommand.Invalid("message.invalid", "'conversation.echo' 'properties.done' must be true or false.");
        }
        int rate = DefaultEchoSampleRate;
        if (props["sample_rate"] is not null)
        {
            if (Num(props, "sample_rate") is not { } r || r != Math.Floor(r) || r < ConversationSession.MinEchoSampleRate || r > ConversationSession.MaxEchoSampleRate)
            {
                return new InCallCommand.Invalid("message.invalid", $"'conversation.echo' 'properties.sample_rate' must be a whole number of Hz from {ConversationSession.MinEchoSampleRate} to {ConversationSession.MaxEchoSampleRate}.");
            }
            rate = (int)r;
        }
        var tooLarge = new InCallCommand.Invalid("message.too_large", $"'conversation.echo' may carry at most {MaxEchoAudioBytes} bytes of audio per message; send longer audio in pieces with the same 'inference_id'.");
        if (base64.Length > (MaxEchoAudioBytes + 2) / 3 * 4 + 4)
        {
            return tooLarge;
        }
        var bytes = new byte[base64.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64String(base64, bytes, out var length))
        {
            return new InCallCommand.Invalid("message.invalid", "'conversation.echo' 'properties.audio' is not valid base64.");
        }
        if (length > MaxEchoAudioBytes)
        {
            return tooLarge;
        }
        if (length % 2 != 0)
        {
            return new InCallCommand.Invalid("message.invalid", $"'conversation.echo' 'properties.audio' must be 16-bit PCM (an even number of bytes); it has {length}.");
        }
        if (length == 0 && !done)
        {
            return new InCallCommand.Invalid("message.invalid", "'conversation.echo' 'properties.audio' is empty; send audio, or 'done': true to end the utterance.");
        }
        var inference = Str(props, "inference_id");
        return new InCallCommand.EchoAudio(Wav.DecodePcm16(bytes.AsSpan(0, length)), rate, done, string.IsNullOrWhiteSpace(inference) ? null : inference);
    }

    /// <summary>A flag as JSON true/false or the strings "true"/"false" (the CVI examples use both).</summary>
    private static bool TryFlag(JsonNode node, out bool value)
    {
        value = false;
        if (node is not JsonValue v)
        {
            return false;
        }
        if (v.TryGetValue<bool>(out value))
        {
            return true;
        }
        if (v.TryGetValue<string>(out var s) && bool.TryParse(s, out value))
        {
            return true;
        }
        return false;
    }

    /// <summary>A session event as the CVI app message (and the recorded event's properties).</summary>
    public static (string EventType, JsonObject Properties) Describe(SessionEvent e)
    {
        var props = new JsonObject();
        var type = e.Type switch
        {
            Sessions.SessionEventTypes.Utterance => InCallEventTypes.Utterance,
            Sessions.SessionEventTypes.ToolCall => InCallEventTypes.ToolCall,
            Sessions.SessionEventTypes.ReplicaStartedSpeaking => InCallEventTypes.ReplicaStartedSpeaking,
            Sessions.SessionEventTypes.ReplicaStoppedSpeaking => InCallEventTypes.ReplicaStoppedSpeaking,
            Sessions.SessionEventTypes.UserStartedSpeaking => InCallEventTypes.UserStartedSpeaking,
            Sessions.SessionEventTypes.UserStoppedSpeaking => InCallEventTypes.UserStoppedSpeaking,
            Sessions.SessionEventTypes.ReplicaInterrupted => InCallEventTypes.ReplicaInterrupted,
            _ => InCallEventTypes.Error,
        };
        if (e.Role is not null)
        {
            props["role"] = e.Role;
        }
        if (e.Text is not null)
        {
            props[type == InCallEventTypes.Error ? "message" : "speech"] = e.Text;
        }
        if (e.Duration is { } d)
        {
            props["duration"] = Math.Round(d.TotalSeconds, 3);
        }
        if (e.ErrorCode is not null || type == InCallEventTypes.Error)
        {
            props["code"] = e.ErrorCode ?? e.Type;
        }
        if (e.ToolCallId is not null)
        {
            props["tool_call_id"] = e.ToolCallId;
            props["name"] = e.ToolName;
            props["arguments"] = e.Arguments;
        }
        if (e.Model is not null)
        {
            props["model"] = e.Model;
        }
        return (type, props);
    }

    /// <summary>The per-turn latency record (milliseconds from the true end of user speech).</summary>
    public static JsonObject Metrics(TurnMetrics m) => new()
    {
        ["inference_id"] = m.InferenceId,
        ["floor_decision_ms"] = Ms(m.FloorDecision),
        ["asr_final_ms"] = Ms(m.AsrFinal),
        ["llm_first_token_ms"] = Ms(m.LlmFirstToken),
        ["first_audio_ms"] = Ms(m.FirstClauseAudio),
        ["first_mouth_frame_ms"] = Ms(m.FirstMouthFrame),
        ["speculative"] = m.Speculative,
    };

    /// <summary>The envelope every out-message has.</summary>
    public static byte[] Envelope(string messageType, string eventType, string conversationId, JsonObject properties,
        long? seq = null, int? turnIdx = null, string? inferenceId = null, DateTimeOffset? timestamp = null, TimeSpan? mediaTime = null)
    {
        var o = new JsonObject
        {
            ["message_type"] = messageType,
            ["event_type"] = eventType,
            ["conversation_id"] = conversationId,
        };
        if (seq is { } s)
        {
            o["seq"] = s;
            o["turn_idx"] = turnIdx;
            o["inference_id"] = inferenceId;
        }
        if (timestamp is { } t)
        {
            o["timestamp"] = t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        }
        if (mediaTime is { } m)
        {
            o["media_time"] = Math.Round(m.TotalSeconds, 3);
        }
        o["properties"] = properties;
        return JsonSerializer.SerializeToUtf8Bytes(o);
    }

    private static double? Ms(TimeSpan? t) => t is { } v ? Math.Round(v.TotalMilliseconds, 1) : null;

    private static InCallCommand.Invalid Missing(string type, string field) =>
        new("message.invalid", $"'{type}' needs 'properties.{field}' (a non-empty string of at most {MaxText} characters).");

    private static string? Text(JsonObject props, string name) =>
        Str(props, name) is { Length: > 0 and <= MaxText } s && !string.IsNullOrWhiteSpace(s) ? s : null;

    private static string? Str(JsonObject? o, string name) => o?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static bool Bool(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static double? Num(JsonObject o, string name) => o[name] is JsonValue v && v.TryGetValue<double>(out var d) && double.IsFinite(d) ? d : null;

    private static int? Int(JsonObject o, string name) => Num(o, name) is { } d && d is >= 1 and <= 384_000 ? (int)d : null;
}
