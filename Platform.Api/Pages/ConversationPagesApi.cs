using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;
using Platform.Api.Infrastructure;
using Platform.Contracts;

namespace Platform.Api.Pages;

/// <summary>
/// The white-labeled conversation page at <c>conversation_url</c> (<c>/c/{tenant}/{conversation}/{token}</c>), its
/// static files and its media socket (<c>…/media</c>, relayed to the worker). Nothing served here names the platform.
/// </summary>
public static class ConversationPagesApi
{
    public static IServiceCollection AddConversationPages(this IServiceCollection services)
    {
        services.AddOptions<MediaOptions>().BindConfiguration(MediaOptions.Section);
        services.AddSingleton<PageAssets>();
        services.AddSingleton<IMediaEndpointResolver, ConfiguredMediaEndpoints>();
        services.AddSingleton<MediaRelay>();
        return services;
    }

    public static WebApplication MapConversationPages(this WebApplication app)
    {
        app.UseWebSockets();
        app.MapGet(PageAssets.PathBase + "/{file}", Asset).ExcludeFromDescription();
        app.MapGet("/c/{tenant}/{conversation}/{token}", PageAsync).ExcludeFromDescription();
        app.MapGet("/c/{tenant}/{conversation}/{token}/media", MediaAsync).ExcludeFromDescription();
        app.MapPost("/c/{tenant}/{conversation}/{token}/livekit", LiveKitJoinAsync).ExcludeFromDescription();
        return app;
    }

    private static IResult Asset(HttpContext http, PageAssets assets, string file)
    {
        if (assets.Find(file) is not { } asset)
        {
            return Neutral(http, StatusCodes.Status404NotFound);
        }
        var h = http.Response.Headers;
        h.XContentTypeOptions = "nosniff";
        h.CacheControl = http.Request.Query["v"] == asset.Version ? "public, max-age=31536000, immutable" : "no-cache";
        h.ETag = $"\"{asset.Version}\"";
        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static async Task<IResult> PageAsync(HttpContext http, IGrainFactory grains, PageAssets assets, string tenant, string conversation, string token)
    {
        var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var meetingToken = MeetingToken(http.Request);
        var page = await OpenAsync(grains, tenant, conversation, token, meetingToken);
        if (page is null)
        {
            SecurityHeaders(http, nonce, [], null);
            return Html(CallPageHtml.BadLink(assets, nonce), StatusCodes.Status404NotFound);
        }
        var origins = EmbedOrigins(page.Branding);
        SecurityHeaders(http, nonce, origins, CallPageHtml.LogoUrl(page.Branding), page.LiveKitUrl);
        if (!page.Authorized)
        {
            return Html(CallPageHtml.AccessCode(page, assets, nonce, wrongToken: meetingToken is not null), StatusCodes.Status403Forbidden);
        }
        var basePath = $"/c/{Uri.EscapeDataString(tenant)}/{Uri.EscapeDataString(conversation)}/{Uri.EscapeDataString(token)}";
        return Html(CallPageHtml.Call(page, basePath, assets, nonce, origins), StatusCodes.Status200OK);
    }

    private static async Task<IResult> MediaAsync(HttpContext http, MediaRelay relay, string tenant, string conversation, string token)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            return Neutral(http, StatusCodes.Status400BadRequest);
        }
        if (!TenantId.IsValid(tenant) || !ConversationId.IsValidLocal(conversation))
        {
            return Neutral(http, StatusCodes.Status404NotFound);
        }
        await relay.RunAsync(http, new ConversationId(new TenantId(tenant), conversation), token, MeetingToken(http.Request));
        return Results.Empty;
    }

    /// <summary>
    /// The end user's LiveKit join for a conversation on LiveKit (what the page connects with): a short-lived token for
    /// this link's participant, never cached. A bad link is the same neutral 404 as the page's; a missing or wrong
    /// meeting token is 403; a call that is over or not on LiveKit is 409 (problem details say which).
    /// </summary>
    private static async Task<IResult> LiveKitJoinAsync(HttpContext http, IGrainFactory grains, string tenant, string conversation, string token)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (!TenantId.IsValid(tenant) || !ConversationId.IsValidLocal(conversation) || token.Length is 0 or > 128)
        {
            return Neutral(http, StatusCodes.Status404NotFound);
        }
        var id = new ConversationId(new TenantId(tenant), conversation);
        var join = await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).OpenPageLiveKitAsync(token, MeetingToken(http.Request));
        if (join.Problem is { Kind: ProblemKind.NotFound })
        {
            return Neutral(http, StatusCodes.Status404NotFound);
        }
        return ProblemResults.Ok(join, j => new
        {
            url = j.Url,
            room = j.Room,
            identity = j.Identity,
            token = j.Token,
            expires_at = j.ExpiresAt,
        });
    }

    /// <summary>The page, or null for a bad link (malformed ids, unknown conversation, wrong token: all alike).</summary>
    private static async Task<ConversationPage?> OpenAsync(IGrainFactory grains, string tenant, string conversation, string token, string? meetingToken)
    {
        if (!TenantId.IsValid(tenant) || !ConversationId.IsValidLocal(conversation) || token.Length is 0 or > 128)
        {
            return null;
        }
        var id = new ConversationId(new TenantId(tenant), conversation);
        var result = await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).OpenPageAsync(token, meetingToken);
        return result.Value;
    }

    /// <summary>The meeting token from <c>?t=</c> (what a shared link carries) or <c>?meeting_token=</c>.</summary>
    private static string? MeetingToken(HttpRequest request)
    {
        var value = request.Query.TryGetValue("t", out var t) && !StringValues.IsNullOrEmpty(t) ? t.ToString()
            : request.Query.TryGetValue("meeting_token", out var m) && !StringValues.IsNullOrEmpty(m) ? m.ToString() : null;
        return value is { Length: > 0 and <= 256 } ? value.Trim() : null;
    }

    /// <summary>The tenant's embedding origins, normalised to <c>scheme://host[:port]</c>; malformed entries are left out.</summary>
    public static IReadOnlyList<string> EmbedOrigins(TenantBranding branding) =>
        [.. (branding.EmbedOrigins ?? [])
            .Select(o => Uri.TryCreate(o, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http" && uri.UserInfo.Length == 0 ? uri.GetLeftPart(UriPartial.Authority) : null)
            .OfType<string>()
            .Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// The origins a page of a conversation on LiveKit connects to: the server's signalling socket (ws/wss) and its
    /// HTTP side (https/http: livekit-client validates a failed join over it); none when the URL is not one.
    /// </summary>
    public static IReadOnlyList<string> LiveKitOrigins(string? liveKitUrl)
    {
        if (!Uri.TryCreate(liveKitUrl, UriKind.Absolute, out var uri) || uri.UserInfo.Length > 0)
        {
            return [];
        }
        var secure = uri.Scheme switch { "wss" or "https" => true, "ws" or "http" => false, _ => (bool?)null };
        if (secure is null)
        {
            return [];
        }
        var host = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}";
        return secure.Value ? [$"wss://{host}", $"https://{host}"] : [$"ws://{host}", $"http://{host}"];
    }

    private static void SecurityHeaders(HttpContext http, string nonce, IReadOnlyList<string> embedOrigins, string? logoUrl, string? liveKitUrl = null)
    {
        var logoOrigin = logoUrl is null ? "" : " " + new Uri(logoUrl).GetLeftPart(UriPartial.Authority);
        var connect = string.Join(' ', ["'self'", .. LiveKitOrigins(liveKitUrl)]);
        var ancestors = string.Join(' ', ["'self'", .. embedOrigins]);
        var h = http.Response.Headers;
        h.ContentSecurityPolicy =
            $"default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:{logoOrigin}; " +
            $"connect-src {connect}; media-src 'self' blob:; worker-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}";
        h["Referrer-Policy"] = "no-referrer";
        h.CacheControl = "no-store";
        h.XContentTypeOptions = "nosniff";
        h["Permissions-Policy"] = "camera=(), geolocation=(), payment=(), usb=()";
        h["Cross-Origin-Opener-Policy"] = "same-origin";
    }

    private static IResult Html(string html, int status) =>
        Results.Content(html, "text/html; charset=utf-8", Encoding.UTF8, status);

    private static IResult Neutral(HttpContext http, int status)
    {
        http.Response.Headers.CacheControl = "no-store";
        return Results.Text(status == StatusCodes.Status404NotFound ? "Not found" : "Bad request", "text/plain; charset=utf-8", Encoding.UTF8, status);
    }
}
