using System.Globalization;
using Platform.Contracts;

namespace Platform.Api.Infrastructure;

/// <summary>Turns grain problems and request faults into RFC 7807 problem details.</summary>
public static class ProblemResults
{
    public static int Status(ProblemKind kind) => kind switch
    {
        ProblemKind.Invalid => StatusCodes.Status400BadRequest,
        ProblemKind.Unprocessable => StatusCodes.Status422UnprocessableEntity,
        ProblemKind.NotFound => StatusCodes.Status404NotFound,
        ProblemKind.Conflict => StatusCodes.Status409Conflict,
        ProblemKind.LimitExceeded => StatusCodes.Status429TooManyRequests,
        ProblemKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status400BadRequest,
    };

    public static IResult From(Problem problem)
    {
        var extensions = new Dictionary<string, object?>();
        if (problem.Errors.Count > 0)
        {
            // Field → messages, as ASP.NET's ValidationProblemDetails does, so clients can show them by field.
            extensions["errors"] = problem.Errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
        }
        foreach (var (key, value) in problem.Extensions ?? new Dictionary<string, string>())
        {
            extensions[key] = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : value;
        }
        return Results.Problem(detail: problem.Detail, statusCode: Status(problem.Kind), extensions: extensions);
    }

    public static IResult Field(int status, string field, string message) =>
        Results.Problem(detail: message, statusCode: status, extensions: new Dictionary<string, object?>
        {
            ["errors"] = new Dictionary<string, string[]> { [field] = [message] },
        });

    public static IResult NotFound(string what, string id) => From(Problem.NotFound(what, id));

    /// <summary>The value of a grain result: its value as a 200 JSON body, or its problem.</summary>
    public static IResult Ok<T>(Result<T> result, Func<T, object> view) =>
        result.IsOk ? Results.Json(view(result.Value!)) : From(result.Problem!);
}
