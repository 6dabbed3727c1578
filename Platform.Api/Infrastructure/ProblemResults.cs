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
        ProblemKind.Forbidden => StatusCodes.Status403Forbidden,
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
        var result = Results.Problem(detail: problem.Detail, statusCode: Status(problem.Kind), extensions: extensions);
        // No capacity is temporary: say when to come back (the grain's hint, else a short default).
        return problem.Kind == ProblemKind.Unavailable
            ? new WithRetryAfter(result, problem.Extensions?.GetValueOrDefault("retry_after") ?? DefaultRetryAfterSeconds)
            : result;
    }

    /// <summary>Retry-After (seconds) of a 503 whose grain gave no hint.</summary>
    public const string DefaultRetryAfterSeconds = "2";

    private sealed class WithRetryAfter(IResult inner, string seconds) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = seconds;
            return inner.ExecuteAsync(httpContext);
        }
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
