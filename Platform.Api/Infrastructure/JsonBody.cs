using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Contracts.Json;

namespace Platform.Api.Infrastructure;

/// <summary>Reads a request body as JSON with a size limit, and validates it against a shape.</summary>
public static class JsonBody
{
    public const int MaxBytes = 1024 * 1024;

    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 32, AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    /// <summary>The parsed body, or a 4xx problem result that says what is wrong with it.</summary>
    public static async Task<(JsonNode? Node, IResult? Error)> ReadAsync(HttpRequest request)
    {
        if (request.ContentType is { } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            && !type.StartsWith("application/json-patch+json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, ProblemResults.Field(StatusCodes.Status415UnsupportedMediaType, "Content-Type", $"The body must be application/json, not '{type}'."));
        }
        if (request.ContentLength > MaxBytes)
        {
            return (null, TooLarge());
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk)) > 0)
        {
            if (buffer.Length + read > MaxBytes)
            {
                return (null, TooLarge());
            }
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
        {
            return (null, ProblemResults.Field(StatusCodes.Status400BadRequest, "body", "The request needs a JSON body."));
        }
        try
        {
            var node = JsonNode.Parse(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), NodeOptions, DocumentOptions);
            if (FindBadText(node, "") is { } bad)
            {
                return (null, ProblemResults.Field(StatusCodes.Status400BadRequest, bad, $"'{bad}' contains a NUL character or invalid Unicode (a lone surrogate)."));
            }
            return (node, null);
        }
        catch (JsonException e)
        {
            var where = e.LineNumber is { } line ? $" at line {line + 1}, position {e.BytePositionInLine + 1}" : "";
            return (null, ProblemResults.Field(StatusCodes.Status400BadRequest, "body", $"The body is not valid JSON{where}."));
        }
        catch (Exception e) when (e is ArgumentException or DecoderFallbackException or InvalidOperationException)
        {
            return (null, ProblemResults.Field(StatusCodes.Status400BadRequest, "body", "The body is not valid UTF-8 JSON."));
        }
    }

    /// <summary>Reads and validates against <paramref name="shape"/>.</summary>
    public static async Task<(JsonNode? Node, IResult? Error)> ReadValidAsync(HttpRequest request, Shape shape)
    {
        var (node, error) = await ReadAsync(request);
        if (error is not null)
        {
            return (null, error);
        }
        var errors = ShapeValidation.Validate(shape, node);
        return errors.Count > 0 ? (null, ProblemResults.From(Problem.Invalid(errors))) : (node, null);
    }

    /// <summary>
    /// The path of the first string (value or member name) that PostgreSQL's text and jsonb types cannot hold: NUL, or
    /// UTF-16 that is not valid Unicode. Checked here so that no such text reaches a grain or the database.
    /// </summary>
    private static string? FindBadText(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    var p = path.Length == 0 ? name : $"{path}.{name}";
                    if (!IsGoodText(name))
                    {
                        return p;
                    }
                    if (FindBadText(value, p) is { } bad)
                    {
                        return bad;
                    }
                }
                return null;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    if (FindBadText(a[i], $"{path}[{i}]") is { } bad)
                    {
                        return bad;
                    }
                }
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return IsGoodText(v.GetValue<string>()) ? null : (path.Length == 0 ? "body" : path);
            default:
                return null;
        }
    }

    private static bool IsGoodText(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (c == '\0')
            {
                return false;
            }
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= s.Length || !char.IsLowSurrogate(s[i + 1]))
                {
                    return false;
                }
                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return false;
            }
        }
        return true;
    }

    private static IResult TooLarge() =>
        ProblemResults.Field(StatusCodes.Status413PayloadTooLarge, "body", $"The body is larger than the limit of {MaxBytes} bytes.");
}
