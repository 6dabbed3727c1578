using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Platform.Contracts;

namespace Platform.Render.Worker.Media;

/// <summary>The worker's media socket: <c>GET /sessions/{tenant}/{conversation}</c>, relayed to by the Api.</summary>
public static class MediaEndpoints
{
    /// <summary>The header carrying the media key the Api and the workers share.</summary>
    public const string KeyHeader = "x-platform-media-key";

    public static IEndpointRouteBuilder MapMediaEndpoints(this IEndpointRouteBuilder app)
    {
        app.Map("/sessions/{tenant}/{conversation}", async (string tenant, string conversation, HttpContext http,
            MediaSessionRunner runner, IOptions<RenderOptions> options) =>
        {
            if (!KeyMatches(options.Value.MediaKey, http.Request.Headers[KeyHeader].ToString()))
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                    detail: $"The '{KeyHeader}' header does not carry this worker's media key.");
            }
            if (!http.WebSockets.IsWebSocketRequest)
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: "This endpoint takes a WebSocket.");
            }
            if (!TenantId.IsValid(tenant) || !ConversationId.IsValidLocal(conversation)
                || runner.Find(new ConversationId(new TenantId(tenant), conversation)) is not { } session)
            {
                return Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found",
                    detail: $"No session of conversation '{conversation}' runs on this worker.");
            }
            using var socket = await http.WebSockets.AcceptWebSocketAsync();
            await session.RunClientAsync(socket, http.RequestAborted);
            return Results.Empty;
        });
        return app;
    }

    private static bool KeyMatches(string? expected, string given) =>
        string.IsNullOrEmpty(expected)
        || CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(expected)), SHA256.HashData(Encoding.UTF8.GetBytes(given)));
}
