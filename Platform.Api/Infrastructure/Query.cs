using System.Globalization;

namespace Platform.Api.Infrastructure;

/// <summary>Query-string parameters with named errors.</summary>
public static class Query
{
    public static (int Value, IResult? Error) Int(HttpRequest request, string name, int fallback, int min, int max)
    {
        if (!request.Query.TryGetValue(name, out var raw) || raw.Count == 0 || string.IsNullOrEmpty(raw[0]))
        {
            return (fallback, null);
        }
        return int.TryParse(raw[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? (n, null)
            : (0, ProblemResults.Field(StatusCodes.Status400BadRequest, name, $"'{name}' must be an integer from {min} to {max}."));
    }

    public static (bool Value, IResult? Error) Bool(HttpRequest request, string name)
    {
        if (!request.Query.TryGetValue(name, out var raw) || raw.Count == 0 || string.IsNullOrEmpty(raw[0]))
        {
            return (false, null);
        }
        return raw[0]!.ToLowerInvariant() switch
        {
            "true" or "1" => (true, null),
            "false" or "0" => (false, null),
            _ => (false, ProblemResults.Field(StatusCodes.Status400BadRequest, name, $"'{name}' must be true or false.")),
        };
    }

    public static (string? Value, IResult? Error) OneOf(HttpRequest request, string name, params string[] allowed)
    {
        if (!request.Query.TryGetValue(name, out var raw) || raw.Count == 0 || string.IsNullOrEmpty(raw[0]))
        {
            return (null, null);
        }
        return allowed.Contains(raw[0], StringComparer.Ordinal)
            ? (raw[0], null)
            : (null, ProblemResults.Field(StatusCodes.Status400BadRequest, name, $"'{name}' must be one of {string.Join(", ", allowed.Select(a => $"'{a}'"))}."));
    }
}
