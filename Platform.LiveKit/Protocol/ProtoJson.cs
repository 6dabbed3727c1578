using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Platform.LiveKit.Protocol;

/// <summary>
/// Reads protobuf JSON as LiveKit writes it: Twirp answers use proto field names (snake_case) with defaults filled
/// in, webhooks use JSON names (camelCase) with defaults omitted; 64-bit integers are strings, enums are names (a
/// number is accepted too). Like every protobuf JSON parser we accept both spellings of a field name.
/// </summary>
internal static class ProtoJson
{
    public static bool TryGet(JsonElement obj, string protoName, out JsonElement value)
    {
        if (obj.ValueKind == JsonValueKind.Object)
        {
            if (obj.TryGetProperty(protoName, out value) && value.ValueKind != JsonValueKind.Null) return true;
            var jsonName = ToCamel(protoName);
            if (!ReferenceEquals(jsonName, protoName) && obj.TryGetProperty(jsonName, out value) && value.ValueKind != JsonValueKind.Null)
                return true;
        }
        value = default;
        return false;
    }

    public static string String(JsonElement obj, string name) =>
        TryGet(obj, name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString()! : throw Bad(name, v) : "";

    public static bool Bool(JsonElement obj, string name) =>
        TryGet(obj, name, out var v) && (v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Bad(name, v),
        });

    public static uint UInt32(JsonElement obj, string name) => TryGet(obj, name, out var v) ? checked((uint)Integer(name, v)) : 0;

    public static int Int32(JsonElement obj, string name) => TryGet(obj, name, out var v) ? checked((int)Integer(name, v)) : 0;

    public static long Int64(JsonElement obj, string name) => TryGet(obj, name, out var v) ? Integer(name, v) : 0;

    public static byte[] Bytes(JsonElement obj, string name)
    {
        if (!TryGet(obj, name, out var v)) return [];
        if (v.ValueKind != JsonValueKind.String) throw Bad(name, v);
        var s = v.GetString()!.Replace('-', '+').Replace('_', '/');
        s = s.PadRight(s.Length + (4 - s.Length % 4) % 4, '=');
        return Convert.FromBase64String(s);
    }

    public static IReadOnlyDictionary<string, string> Map(JsonElement obj, string name)
    {
        if (!TryGet(obj, name, out var v)) return FrozenDictionary<string, string>.Empty;
        if (v.ValueKind != JsonValueKind.Object) throw Bad(name, v);
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in v.EnumerateObject())
            map[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw Bad(name, p.Value);
        return map;
    }

    public static IReadOnlyList<T> List<T>(JsonElement obj, string name, Func<JsonElement, T> item)
    {
        if (!TryGet(obj, name, out var v)) return [];
        if (v.ValueKind != JsonValueKind.Array) throw Bad(name, v);
        var list = new List<T>(v.GetArrayLength());
        foreach (var e in v.EnumerateArray()) list.Add(item(e));
        return list;
    }

    public static T? Message<T>(JsonElement obj, string name, Func<JsonElement, T> read) where T : class =>
        TryGet(obj, name, out var v) ? v.ValueKind == JsonValueKind.Object ? read(v) : throw Bad(name, v) : null;

    public static TEnum Enum<TEnum>(JsonElement obj, string name) where TEnum : struct, System.Enum =>
        TryGet(obj, name, out var v) ? ProtoEnum<TEnum>.Read(name, v) : default;

    public static IReadOnlyList<TEnum> EnumList<TEnum>(JsonElement obj, string name) where TEnum : struct, System.Enum =>
        List(obj, name, e => ProtoEnum<TEnum>.Read(name, e));

    private static long Integer(string name, JsonElement v)
    {
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n)) return n;
        if (v.ValueKind == JsonValueKind.String && long.TryParse(v.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n))
            return n;
        if (v.ValueKind == JsonValueKind.String && ulong.TryParse(v.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var u))
            return checked((long)u);
        throw Bad(name, v);
    }

    internal static FormatException Bad(string name, JsonElement v) =>
        new($"LiveKit JSON field '{name}' has an unexpected value of kind {v.ValueKind}.");

    /// <summary>snake_case proto name to its protobuf JSON name (lowerCamelCase).</summary>
    public static string ToCamel(string protoName)
    {
        if (protoName.IndexOf('_') < 0) return protoName;
        var sb = new StringBuilder(protoName.Length);
        var upper = false;
        foreach (var c in protoName)
        {
            if (c == '_') { upper = true; continue; }
            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return sb.ToString();
    }
}

/// <summary>Maps protobuf enum value names (UPPER_SNAKE, optionally with a prefix) to a C# enum and back.</summary>
internal static class ProtoEnum<TEnum> where TEnum : struct, Enum
{
    private static readonly FrozenDictionary<string, TEnum> ByName = Build();
    private static readonly FrozenDictionary<TEnum, string> NameOf = ByName.ToFrozenDictionary(p => p.Value, p => p.Key);

    public static TEnum Read(string field, JsonElement v)
    {
        switch (v.ValueKind)
        {
            case JsonValueKind.String:
                return ByName.TryGetValue(v.GetString()!, out var e) ? e : Unrecognized;
            case JsonValueKind.Number when v.TryGetInt32(out var n):
                var value = (TEnum)(object)n;
                return NameOf.ContainsKey(value) ? value : Unrecognized;
            default:
                throw ProtoJson.Bad(field, v);
        }
    }

    public static string Name(TEnum value) =>
        NameOf.TryGetValue(value, out var name) ? name : throw new ArgumentOutOfRangeException(nameof(value), value, "No protobuf name.");

    private static TEnum Unrecognized => (TEnum)(object)(-1);

    private static FrozenDictionary<string, TEnum> Build()
    {
        var prefix = typeof(TEnum).GetCustomAttributes(typeof(ProtoEnumPrefixAttribute), false) is [ProtoEnumPrefixAttribute a, ..] ? a.Prefix : "";
        var map = new Dictionary<string, TEnum>(StringComparer.Ordinal);
        foreach (var value in Enum.GetValues<TEnum>())
        {
            if (Convert.ToInt32(value, CultureInfo.InvariantCulture) < 0) continue;
            map[prefix + ToUpperSnake(value.ToString())] = value;
        }
        return map.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ToUpperSnake(string pascal)
    {
        var sb = new StringBuilder(pascal.Length + 4);
        for (var i = 0; i < pascal.Length; i++)
        {
            if (i > 0 && char.IsUpper(pascal[i])) sb.Append('_');
            sb.Append(char.ToUpperInvariant(pascal[i]));
        }
        return sb.ToString();
    }
}

/// <summary>The prefix LiveKit's protobuf enum value names carry (e.g. <c>ROOM_END_</c>).</summary>
[AttributeUsage(AttributeTargets.Enum)]
internal sealed class ProtoEnumPrefixAttribute(string prefix) : Attribute
{
    public string Prefix { get; } = prefix;
}
