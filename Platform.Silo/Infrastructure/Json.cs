using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Silo.Infrastructure;

/// <summary>Small helpers for reading validated CVI documents.</summary>
internal static class Json
{
    public static JsonObject ParseObject(string json) =>
        JsonNode.Parse(json) as JsonObject ?? throw new ArgumentException("The document is not a JSON object.", nameof(json));

    public static string? Str(JsonObject? obj, string name) =>
        obj is not null && obj.TryGetPropertyValue(name, out var n) && n is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static bool? Bool(JsonObject? obj, string name) =>
        obj is not null && obj.TryGetPropertyValue(name, out var n) && n is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False ? v.GetValue<bool>() : null;

    public static long? Int(JsonObject? obj, string name) =>
        obj is not null && obj.TryGetPropertyValue(name, out var n) && n is JsonValue v && v.TryGetValue<long>(out var l) ? l : null;

    public static JsonObject? Obj(JsonObject? obj, string name) =>
        obj is not null && obj.TryGetPropertyValue(name, out var n) ? n as JsonObject : null;

    /// <summary>The node at a dotted path, or null.</summary>
    public static JsonNode? At(JsonObject root, string dottedPath)
    {
        JsonNode? node = root;
        foreach (var part in dottedPath.Split('.'))
        {
            if (node is not JsonObject o || !o.TryGetPropertyValue(part, out node))
            {
                return null;
            }
        }
        return node;
    }
}
