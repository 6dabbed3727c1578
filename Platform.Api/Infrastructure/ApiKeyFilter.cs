using System.Globalization;
using Platform.Contracts;

namespace Platform.Api.Infrastructure;

/// <summary>
/// Authenticates <c>x-api-key</c> through the key's grain (which also rate-limits it) and puts the tenant on the request.
/// Every /v2 handler reads the tenant from here, so every grain key it builds carries the caller's tenant.
/// </summary>
public sealed class ApiKeyFilter(IGrainFactory grains) : IEndpointFilter
{
    public const string Header = "x-api-key";
    private const string TenantItem = "platform.tenant";

    public static TenantId Tenant(HttpContext context) =>
        context.Items[TenantItem] is TenantId t ? t : throw new InvalidOperationException("The API key filter did not run for this endpoint.");

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var presented = http.Request.Headers[Header].ToString();
        if (presented.Length == 0)
        {
            return Unauthorized("The request has no x-api-key header.");
        }
        if (presented.Length > 200)
        {
            return Unauthorized("The x-api-key is not valid.");
        }
        var check = await grains.GetGrain<IApiKeyGrain>(ApiKeys.Hash(presented)).CheckAsync();
        if (check.Tenant is not { } tenant)
        {
            return Unauthorized("The x-api-key is not valid or has been revoked.");
        }
        if (check.RateLimited)
        {
            http.Response.Headers.RetryAfter = check.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return Results.Problem(
                detail: $"This API key is limited to {check.Limit} requests per second; retry after {check.RetryAfterSeconds} s.",
                statusCode: StatusCodes.Status429TooManyRequests,
                extensions: new Dictionary<string, object?> { ["limit"] = check.Limit, ["retry_after"] = check.RetryAfterSeconds });
        }
        http.Items[TenantItem] = tenant;
        return await next(context);
    }

    private static IResult Unauthorized(string message) =>
        ProblemResults.Field(StatusCodes.Status401Unauthorized, Header, message);
}
