using System.Text.Json;
using System.Text.Json.Nodes;

namespace Platform.Contracts.Json;

/// <summary>
/// The expected shape of a JSON value. Shapes are plain data: the Api validates request bodies with them, the persona
/// grain re-validates a document after a JSON Patch, and the fuzz tests generate bodies from them.
/// </summary>
public abstract record Shape
{
    /// <summary>Appends an error for every way <paramref name="node"/> departs from the shape. <c>null</c> is never passed.</summary>
    public abstract void Validate(JsonNode node, string path, List<FieldError> errors);

    /// <summary>A word for the expected type, used in messages ("a string", "an object").</summary>
    public abstract string Expected { get; }

    /// <summary>The JSON kind of a node, in words, for messages.</summary>
    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };

    /// <summary>Joins a parent path and a member name.</summary>
    public static string Join(string path, string member) => path.Length == 0 ? member : $"{path}.{member}";

    /// <summary>Appends the standard wrong-type error.</summary>
    protected void WrongType(JsonNode node, string path, List<FieldError> errors) =>
        errors.Add(new FieldError(path, $"{(path.Length == 0 ? "The body" : $"'{path}'")} must be {Expected}, not {Describe(node)}."));
}

/// <summary>A string, optionally limited to a set of values or checked by a rule.</summary>
public sealed record StringShape(int MaxLength = 10_000, IReadOnlyList<string>? OneOf = null) : Shape
{
    /// <summary>An extra check; returns an error message or null.</summary>
    public Func<string, string?>? Rule { get; init; }

    /// <inheritdoc />
    public override string Expected => OneOf is null ? "a string" : $"one of {string.Join(", ", OneOf.Select(v => $"'{v}'"))}";

    /// <inheritdoc />
    public override void Validate(JsonNode node, string path, List<FieldError> errors)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
        {
            WrongType(node, path, errors);
            return;
        }
        var s = v.GetValue<string>();
        if (s.Length > MaxLength)
        {
            errors.Add(new FieldError(path, $"'{path}' is {s.Length} characters long; the limit is {MaxLength}."));
        }
        else if (OneOf is not null && !OneOf.Contains(s, StringComparer.Ordinal))
        {
            errors.Add(new FieldError(path, $"'{path}' must be one of {string.Join(", ", OneOf.Select(o => $"'{o}'"))}; got '{Truncate(s)}'."));
        }
        else if (Rule?.Invoke(s) is { } message)
        {
            errors.Add(new FieldError(path, $"'{path}' {message}"));
        }
    }

    internal static string Truncate(string s) => s.Length <= 60 ? s : s[..60] + "…";
}

/// <summary>An absolute http(s) URL.</summary>
public static class UrlRule
{
    /// <summary>The rule for <see cref="StringShape.Rule"/>.</summary>
    public static string? Check(string s) =>
        Uri.TryCreate(s, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0
            ? null
            : "must be an absolute http or https URL.";
}

/// <summary>A boolean.</summary>
public sealed record BoolShape : Shape
{
    /// <inheritdoc />
    public override string Expected => "a boolean";

    /// <inheritdoc />
    public override void Validate(JsonNode node, string path, List<FieldError> errors)
    {
        if (node is not JsonValue v || v.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            WrongType(node, path, errors);
        }
    }
}

/// <summary>An integer within bounds.</summary>
public sealed record IntShape(long Min, long Max) : Shape
{
    /// <inheritdoc />
    public override string Expected => $"an integer from {Min} to {Max}";

    /// <inheritdoc />
    public override void Validate(JsonNode node, string path, List<FieldError> errors)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number || !v.TryGetValue<long>(out var n))
        {
            if (node is JsonValue num && num.GetValueKind() == JsonValueKind.Number)
            {
                errors.Add(new FieldError(path, $"'{path}' must be {Expected}; got {num.ToJsonString()}."));
                return;
            }
            WrongType(node, path, errors);
            return;
        }
        if (n < Min || n > Max)
        {
            errors.Add(new FieldError(path, $"'{path}' must be {Expected}; got {n}."));
        }
    }
}

/// <summary>An array of items of one shape.</summary>
public sealed record ArrayShape(Shape Item, int MaxItems = 100) : Shape
{
    /// <inheritdoc />
    public override string Expected => "an array";

    /// <inheritdoc />
    public override void Validate(JsonNode node, string path, List<FieldError> errors)
    {
        if (node is not JsonArray array)
        {
            WrongType(node, path, errors);
            return;
        }
        if (array.Count > MaxItems)
        {
            errors.Add(new FieldError(path, $"'{path}' has {array.Count} items; the limit is {MaxItems}."));
            return;
        }
        for (var i = 0; i < array.Count; i++)
        {
            var item = array[i];
            var itemPath = $"{path}[{i}]";
            if (item is null)
            {
                errors.Add(new FieldError(itemPath, $"'{itemPath}' must be {Item.Expected}, not null."));
                continue;
            }
            Item.Validate(item, itemPath, errors);
        }
    }
}

/// <summary>One member of an object shape.</summary>
/// <param name="Shape">The member's shape.</param>
/// <param name="Required">Must be present and not null.</param>
/// <param name="Secret">Write-only: encrypted at rest, never returned.</param>
public sealed record Member(Shape Shape, bool Required = false, bool Secret = false);

/// <summary>
/// An object with known members. Unknown members are refused by name unless <see cref="Open"/> (free-form objects such as
/// <c>extra_body</c>). A null member counts as absent.
/// </summary>
public sealed record ObjectShape(IReadOnlyDictionary<string, Member> Members, bool Open = false) : Shape
{
    /// <summary>Bounds the serialized size of an open object.</summary>
    public int MaxJsonLength { get; init; } = 64 * 1024;

    /// <summary>A free-form object.</summary>
    public static ObjectShape Free(int maxJsonLength = 64 * 1024) => new(new Dictionary<string, Member>(), Open: true) { MaxJsonLength = maxJsonLength };

    /// <inheritdoc />
    public override string Expected => "an object";

    /// <inheritdoc />
    public override void Validate(JsonNode node, string path, List<FieldError> errors)
    {
        if (node is not JsonObject obj)
        {
            WrongType(node, path, errors);
            return;
        }
        if (Open && Members.Count == 0)
        {
            var length = obj.ToJsonString().Length;
            if (length > MaxJsonLength)
            {
                errors.Add(new FieldError(path, $"'{path}' is {length} bytes of JSON; the limit is {MaxJsonLength}."));
            }
            return;
        }
        foreach (var (name, value) in obj)
        {
            var memberPath = Join(path, name);
            if (!Members.TryGetValue(name, out var member))
            {
                if (!Open)
                {
                    errors.Add(new FieldError(memberPath, $"'{memberPath}' is not a known field."));
                }
                continue;
            }
            if (value is null)
            {
                if (member.Required)
                {
                    errors.Add(new FieldError(memberPath, $"'{memberPath}' is required and must be {member.Shape.Expected}, not null."));
                }
                continue;
            }
            member.Shape.Validate(value, memberPath, errors);
        }
        foreach (var (name, member) in Members)
        {
            if (member.Required && !obj.ContainsKey(name))
            {
                var memberPath = Join(path, name);
                errors.Add(new FieldError(memberPath, $"'{memberPath}' is required."));
            }
        }
    }

    /// <summary>Every path (dotted) of a secret member under this shape.</summary>
    public IEnumerable<string> SecretPaths(string prefix = "")
    {
        foreach (var (name, member) in Members)
        {
            var p = Join(prefix, name);
            if (member.Secret)
            {
                yield return p;
            }
            if (member.Shape is ObjectShape child)
            {
                foreach (var s in child.SecretPaths(p))
                {
                    yield return s;
                }
            }
        }
    }
}

/// <summary>Entry points for validating whole documents.</summary>
public static class ShapeValidation
{
    /// <summary>Validates a parsed document against a root shape; an empty list means valid.</summary>
    public static List<FieldError> Validate(Shape shape, JsonNode? document)
    {
        var errors = new List<FieldError>();
        if (document is null)
        {
            errors.Add(new FieldError("", $"The body must be {shape.Expected}, not null."));
            return errors;
        }
        shape.Validate(document, "", errors);
        return errors;
    }
}

/// <summary>A number (integer or decimal) within bounds.</summary>
public sealed record NumberShape(decimal Min, decimal Max) : Shape
{
    /// <inheritdoc />
    public override string Expected => $"a number from {Min} to {Max}";

    /// <inheritdoc />
    public override void Validate(JsonNode node, string path, List<FieldError> errors)
    {
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            WrongType(node, path, errors);
            return;
        }
        if (!v.TryGetValue<decimal>(out var n) || n < Min || n > Max)
        {
            errors.Add(new FieldError(path, $"'{path}' must be {Expected}; got {v.ToJsonString()}."));
        }
    }
}
