using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;

namespace Platform.Api.Infrastructure;

/// <summary>
/// The cluster or the database being unreachable is a 503 with Retry-After, not a 500; a body Kestrel refused is the
/// status Kestrel chose. Anything else is logged and answered as a problem without internals.
/// </summary>
public sealed partial class UnavailableExceptionHandler(IProblemDetailsService problems, ILogger<UnavailableExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        int status;
        string detail;
        switch (exception)
        {
            case BadHttpRequestException bad:
                status = bad.StatusCode;
                detail = bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? $"The body is larger than the limit of {JsonBody.MaxBytes} bytes." : "The request is malformed.";
                break;
            case OrleansException or TimeoutException or Npgsql.NpgsqlException:
                status = StatusCodes.Status503ServiceUnavailable;
                detail = "The service is temporarily unavailable; retry shortly.";
                http.Response.Headers.RetryAfter = "2";
                LogUnavailable(exception);
                break;
            default:
                LogUnexpected(exception);
                return false;
        }
        http.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = status, Detail = detail },
            Exception = exception,
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Request failed because a dependency is unavailable")]
    private partial void LogUnavailable(Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unexpected failure")]
    private partial void LogUnexpected(Exception e);
}
