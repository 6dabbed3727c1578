using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Contracts.Json;

/// <summary>
/// JSON Patch (RFC 6902) over <see cref="JsonNode"/> documents with JSON Pointers (RFC 6901). All six operations; the
/// patch applies to a copy and either every operation succeeds or the original is returned untouched with the error.
/// </summary>
public static class JsonPatch
{
    /// <summary>The outcome: the patched copy, or the first failing operation's error.</summary>
    public sealed record Outcome(JsonNode? Document, FieldError? Error);

    /// <summary>
    /// Applies <paramref name="patch"/> (a JSON array of operations) to a copy of <paramref name="document"/>.
    /// <paramref name="isWriteOnly"/> names pointers whose value may not be read (<c>test</c>, <c>copy</c> and
    /// <c>move</c> on them are refused).
    /// </summary>
    public static Outcome Apply(JsonNode document, JsonNode? patch, Func<string, bool>? isWriteOnly = null)
    {
        if (patch is not JsonArray ops)
        {
            return Fail("", $"The body must be a JSON Patch document (an array of operations), not {Shape.Describe(patch)}.");
        }
        if (ops.Count > 200)
        {
            return Fail("", $"The patch has {ops.Count} operations; the limit is 200.");
        }
        var doc = document.DeepClone();
        for (var i = 0; i < ops.Count; i++)
        {
            var at = $"[{i}]";
            if (ops[i] is not JsonObject op)
            {
                return Fail(at, $"Operation {i} must be an object with 'op' and 'path'.");
            }
            foreach (var (name, _) in op)
            {
                if (name is not ("op" or "path" or "value" or "from"))
                {
                    return Fail($"{at}.{name}", $"Operation {i} has an unknown member '{name}'.");
                }
            }
            if (!TryString(op, "op", out var kind) || kind is not ("add" or "remove" or "replace" or "move" or "copy" or "test"))
            {
                return Fail($"{at}.op", $"Operation {i}: 'op' must be one of 'add', 'remove', 'replace', 'move', 'copy', 'test'.");
            }
            if (!TryString(op, "path", out var path) || !Pointer.TryParse(path, out var tokens))
            {
                return Fail($"{at}.path", $"Operation {i}: 'path' must be a JSON Pointer such as '/layers/llm/model'.");
            }
            string[]? fromTokens = null;
            if (kind is "move" or "copy")
            {
                if (!TryString(op, "from", out var from) || !Pointer.TryParse(from, out fromTokens))
                {
                    return Fail($"{at}.from", $"Operation {i} ({kind}): 'from' must be a JSON Pointer.");
                }
                if (isWriteOnly?.Invoke(from) == true)
                {
                    return Fail($"{at}.from", $"Operation {i} ({kind}): '{from}' is write-only and cannot be read.");
                }
                if (kind == "move" && path.StartsWith(from + "/", StringComparison.Ordinal))
                {
                    return Fail($"{at}.path", $"Operation {i} (move): '{path}' cannot be inside '{from}'.");
                }
            }
            if (kind == "test" && isWriteOnly?.Invoke(path) == true)
            {
                return Fail($"{at}.path", $"Operation {i} (test): '{path}' is write-only and cannot be tested.");
            }
            JsonNode? value = null;
            if (kind is "add" or "replace" or "test")
            {
                if (!op.TryGetPropertyValue("value", out value))
                {
                    return Fail($"{at}.value", $"Operation {i} ({kind}) needs a 'value'.");
                }
                value = value?.DeepClone();
            }
            var error = kind switch
            {
                "add" => Add(ref doc, tokens, value),
                "remove" => Remove(ref doc, tokens, out _),
                "replace" => Replace(ref doc, tokens, value),
                "move" => Move(ref doc, fromTokens!, tokens),
                "copy" => Copy(ref doc, fromTokens!, tokens),
                _ => Test(doc, tokens, value),
            };
            if (error is not null)
            {
                return Fail(at, $"Operation {i} ({kind} {path}): {error}");
            }
        }
        return new Outcome(doc, null);
    }

    private static Outcome Fail(string field, string message) => new(null, new FieldError(field, message));

    private static bool TryString(JsonObject op, string name, out string value)
    {
        value = "";
        if (op.TryGetPropertyValue(name, out var node) && node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            value = v.GetValue<string>();
            return true;
        }
        return false;
    }

    private static string? Add(ref JsonNode doc, string[] tokens, JsonNode? value)
    {
        if (tokens.Length == 0)
        {
            if (value is null)
            {
                return "the document cannot be replaced by null";
            }
            doc = value;
            return null;
        }
        var parent = Pointer.Resolve(doc, tokens.AsSpan(0, tokens.Length - 1), out var missing);
        if (missing is not null)
        {
            return missing;
        }
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject obj:
                obj[last] = value;
                return null;
            case JsonArray arr:
                if (last == "-")
                {
                    arr.Add(value);
                    return null;
                }
                if (!Pointer.TryIndex(last, out var index) || index > arr.Count)
                {
                    return $"'{last}' is not a valid index into an array of {arr.Count} items";
                }
                arr.Insert(index, value);
                return null;
            default:
                return "the parent is not an object or an array";
        }
    }

    private static string? Remove(ref JsonNode doc, string[] tokens, out JsonNode? removed)
    {
        removed = null;
        if (tokens.Length == 0)
        {
            return "the whole document cannot be removed";
        }
        var parent = Pointer.Resolve(doc, tokens.AsSpan(0, tokens.Length - 1), out var missing);
        if (missing is not null)
        {
            return missing;
        }
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject obj:
                if (!obj.TryGetPropertyValue(last, out removed))
                {
                    return $"there is no member '{last}' to remove";
                }
                obj.Remove(last);
                return null;
            case JsonArray arr:
                if (!Pointer.TryIndex(last, out var index) || index >= arr.Count)
                {
                    return $"'{last}' is not an index of an item in an array of {arr.Count} items";
                }
                removed = arr[index];
                arr.RemoveAt(index);
                return null;
            default:
                return "the parent is not an object or an array";
        }
    }

    private static string? Replace(ref JsonNode doc, string[] tokens, JsonNode? value)
    {
        if (tokens.Length == 0)
        {
            return Add(ref doc, tokens, value);
        }
        var parent = Pointer.Resolve(doc, tokens.AsSpan(0, tokens.Length - 1), out var missing);
        if (missing is not null)
        {
            return missing;
        }
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject obj when obj.ContainsKey(last):
                obj[last] = value; // in place: members keep their order
                return null;
            case JsonObject:
                return $"there is no member '{last}' to replace (use 'add')";
            case JsonArray arr when Pointer.TryIndex(last, out var index) && index < arr.Count:
                arr[index] = value;
                return null;
            case JsonArray arr:
                return $"'{last}' is not an index of an item in an array of {arr.Count} items";
            default:
                return "the parent is not an object or an array";
        }
    }

    private static string? Move(ref JsonNode doc, string[] from, string[] to)
    {
        var error = Remove(ref doc, from, out var value);
        return error ?? Add(ref doc, to, value);
    }

    private static string? Copy(ref JsonNode doc, string[] from, string[] to)
    {
        var source = Pointer.Resolve(doc, from, out var missing);
        return missing ?? Add(ref doc, to, source?.DeepClone());
    }

    private static string? Test(JsonNode doc, string[] tokens, JsonNode? expected)
    {
        var actual = Pointer.Resolve(doc, tokens, out var missing);
        if (missing is not null)
        {
            return missing;
        }
        return JsonNode.DeepEquals(actual, expected) ? null : "the test failed: the value differs";
    }

    /// <summary>JSON Pointer (RFC 6901).</summary>
    public static class Pointer
    {
        /// <summary>Splits a pointer into unescaped reference tokens.</summary>
        public static bool TryParse(string pointer, out string[] tokens)
        {
            tokens = [];
            if (pointer.Length == 0)
            {
                return true;
            }
            if (pointer[0] != '/')
            {
                return false;
            }
            var parts = pointer[1..].Split('/');
            for (var i = 0; i < parts.Length; i++)
            {
                var p = parts[i];
                for (var j = 0; j < p.Length; j++)
                {
                    if (p[j] == '~' && (j + 1 >= p.Length || p[j + 1] is not ('0' or '1')))
                    {
                        return false;
                    }
                }
                parts[i] = p.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            }
            tokens = parts;
            return true;
        }

        /// <summary>An array index token: digits without a leading zero.</summary>
        public static bool TryIndex(string token, out int index)
        {
            index = -1;
            if (token.Length == 0 || token.Length > 9 || (token.Length > 1 && token[0] == '0'))
            {
                return false;
            }
            foreach (var c in token)
            {
                if (c is < '0' or > '9')
                {
                    return false;
                }
            }
            index = int.Parse(token, System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }

        /// <summary>The node at <paramref name="tokens"/>, or a message in <paramref name="missing"/>.</summary>
        public static JsonNode? Resolve(JsonNode? node, ReadOnlySpan<string> tokens, out string? missing)
        {
            missing = null;
            var walked = "";
            foreach (var token in tokens)
            {
                walked += "/" + token;
                switch (node)
                {
                    case JsonObject obj when obj.TryGetPropertyValue(token, out var child):
                        node = child;
                        break;
                    case JsonArray arr when TryIndex(token, out var i) && i < arr.Count:
                        node = arr[i];
                        break;
                    default:
                        missing = $"'{walked}' does not exist";
                        return null;
                }
            }
            return node;
        }
    }
}

/// <summary>The shape of a JSON Patch document, for documentation (the patcher itself checks operations).</summary>
public static class JsonPatchShape
{
    /// <summary>An array of operations.</summary>
    public static readonly ArrayShape Document = new(new ObjectShape(new Dictionary<string, Member>
    {
        ["op"] = new(new StringShape(7, ["add", "remove", "replace", "move", "copy", "test"]), Required: true),
        ["path"] = new(new StringShape(1024), Required: true),
        ["from"] = new(new StringShape(1024)),
        ["value"] = new(ObjectShape.Free()),
    }), 200);
}
