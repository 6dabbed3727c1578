using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.LiveKit;
using Platform.LiveKit.Tokens;

namespace Platform.Testing.LiveKit;

/// <summary>One RoomService call as the fake server saw it: the method, the JSON body and the verified token's grants.</summary>
public sealed record TwirpCall(string Method, JsonObject Body, string Authorization, TokenGrants Grants, int AnsweredStatus)
{
    public string? Room => (Body["name"] ?? Body["room"])?.GetValue<string>();
}

/// <summary>A participant's signalling request (<c>/rtc?access_token=…</c>) as the fake server saw it; Grants is null for a token that did not verify.</summary>
public sealed record SignalRequest(string Path, string? AccessToken, TokenGrants? Grants, int AnsweredStatus);

/// <summary>
/// A loopback LiveKit RoomService (Kestrel on 127.0.0.1, port 0) speaking Twirp as the real server does: bearer
/// tokens verified with the API key and secret (a bad one gets 401 with a plain-text body), snake_case answers with
/// defaults filled in and 64-bit numbers as strings, JSON error bodies (<c>not_found</c>, <c>unavailable</c>). It keeps
/// its rooms, so CreateRoom, DeleteRoom and ListRooms agree with each other, and records every call. Participants'
/// signalling requests (<c>/rtc…</c>, validation included) are recorded with their verified token and refused (401 for a bad token as the
/// real server does, else <see cref="SignalStatus"/>): the media protocol itself is not spoken here.
/// </summary>
public sealed class FakeLiveKitServer : IAsyncDisposable
{
    public const string ApiKey = "APIlk2TestKey";
    public const string ApiSecret = "lk2-test-secret-0123456789abcdef0123456789abcdef";

    private readonly WebApplication _app;
    private readonly LiveKitTokenVerifier _verifier = new(Options(""), TimeProvider.System);

    public ConcurrentQueue<TwirpCall> Calls { get; } = new();
    public ConcurrentQueue<SignalRequest> Signals { get; } = new();

    /// <summary>The answer to a signalling request with a valid token (503: "no nodes available").</summary>
    public int SignalStatus { get; set; } = 503;

    /// <summary>The clock participants' tokens are checked on: the one they were stamped on (a cluster's logical clock);
    /// the RoomService's own calls are stamped on real time.</summary>
    public TimeProvider SignalClock { get; set; } = TimeProvider.System;
    public ConcurrentDictionary<string, JsonObject> Rooms { get; } = new();
    public string Url { get; private set; } = "";

    /// <summary>While set, CreateRoom answers 503 <c>unavailable</c>.</summary>
    public volatile bool FailCreateRoom;

    /// <summary>While set, DeleteRoom answers 503 <c>unavailable</c>.</summary>
    public volatile bool FailDeleteRoom;

    private FakeLiveKitServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Run(HandleAsync);
    }

    public static LiveKitOptions Options(string url) => new() { Url = url, ApiKey = ApiKey, ApiSecret = ApiSecret };

    /// <summary>Points a silo's LiveKit settings at this server (one attempt per call: tests see failures at once).</summary>
    public void ConfigureSilo(Orleans.Hosting.ISiloBuilder silo) => silo.Services.Configure<LiveKitOptions>(o =>
    {
        o.Url = Url;
        o.ApiKey = ApiKey;
        o.ApiSecret = ApiSecret;
        o.MaxAttempts = 1;
    });

    /// <summary>Points the Api's LiveKit settings at this server.</summary>
    public Microsoft.AspNetCore.Hosting.IWebHostBuilder ConfigureApi(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) => builder
        .UseSetting("LiveKit:Url", Url)
        .UseSetting("LiveKit:ApiKey", ApiKey)
        .UseSetting("LiveKit:ApiSecret", ApiSecret);

    public static async Task<FakeLiveKitServer> StartAsync()
    {
        var server = new FakeLiveKitServer();
        await server._app.StartAsync();
        server.Url = server._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return server;
    }

    public IEnumerable<TwirpCall> CallsFor(string method, string room) => Calls.Where(c => c.Method == method && c.Room == room);

    /// <summary>Waits (10 s deadline) until a <paramref name="method"/> call for <paramref name="room"/> was answered with 2xx.</summary>
    public Task WaitForAsync(string method, string room, bool succeeded = true) =>
        PlatformCluster.WaitUntilAsync(() => Task.FromResult(CallsFor(method, room).Any(c => (c.AnsweredStatus < 300) == succeeded)), TimeSpan.FromSeconds(10),
            $"{method} of room {room} ({(succeeded ? "answered 2xx" : "refused")})");

    /// <summary>A room that exists on the server without our doing (an orphan, or someone else's).</summary>
    public void AddRoom(string name, string metadata = "") => Rooms[name] = Room(name, 300, 20, 0, metadata);

    private async Task HandleAsync(HttpContext ctx)
    {
        var path = ctx.Request.Path.Value ?? "";
        const string prefix = "/twirp/livekit.RoomService/";
        var auth = ctx.Request.Headers.Authorization.ToString();
        // As LiveKit does: any origin may call it (a page validates a refused join with fetch, bearer header and all).
        ctx.Response.Headers.AccessControlAllowOrigin = "*";
        if (HttpMethods.IsOptions(ctx.Request.Method))
        {
            ctx.Response.Headers.AccessControlAllowMethods = "GET, POST, OPTIONS";
            ctx.Response.Headers.AccessControlAllowHeaders = ctx.Request.Headers.AccessControlRequestHeaders;
            ctx.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }
        if (path.StartsWith("/rtc", StringComparison.Ordinal))
        {
            // The token rides in the query (access_token) or, from newer clients, as a bearer header.
            var presented = ctx.Request.Query["access_token"].ToString() is { Length: > 0 } query ? query
                : auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : "";
            var valid = new LiveKitTokenVerifier(Options(""), SignalClock).TryVerify(presented, out var signalToken, out _);
            var signalStatus = valid ? SignalStatus : 401;
            Signals.Enqueue(new SignalRequest(path, presented.Length == 0 ? null : presented, valid ? signalToken!.Grants : null, signalStatus));
            await Answer(ctx, signalStatus, "text/plain", valid ? "no nodes available" : "invalid token: signature is invalid");
            return;
        }
        using var reader = new StreamReader(ctx.Request.Body);
        var text = await reader.ReadToEndAsync();
        if (ctx.Request.Method != "POST" || !path.StartsWith(prefix, StringComparison.Ordinal))
        {
            await Answer(ctx, 404, "text/plain", "404 page not found");
            return;
        }
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal) || !_verifier.TryVerify(auth["Bearer ".Length..], out var token, out _))
        {
            await Answer(ctx, 401, "text/plain", "invalid token: signature is invalid");
            return;
        }
        var method = path[prefix.Length..];
        var body = JsonNode.Parse(text) as JsonObject ?? [];
        var (status, answer) = Execute(method, body, token!.Grants);
        Calls.Enqueue(new TwirpCall(method, body, auth, token.Grants, status));
        await Answer(ctx, status, "application/json", answer);
    }

    private (int Status, string Body) Execute(string method, JsonObject body, TokenGrants grants)
    {
        string? Str(string snake, string camel) => (body[camel] ?? body[snake])?.GetValue<string>();
        uint Num(string snake, string camel) => (body[camel] ?? body[snake])?.GetValue<uint>() ?? 0;
        var video = grants.Video ?? new VideoGrant();
        switch (method)
        {
            case "CreateRoom":
                if (!video.RoomCreate) return Error(403, "permission_denied", "permissions denied");
                if (FailCreateRoom) return Error(503, "unavailable", "no nodes available");
                var name = Str("name", "name")!;
                var room = Rooms.GetOrAdd(name, n => Room(n, Num("empty_timeout", "emptyTimeout"), Num("departure_timeout", "departureTimeout"),
                    Num("max_participants", "maxParticipants"), Str("metadata", "metadata") ?? ""));
                return (200, room.ToJsonString());
            case "DeleteRoom":
                if (!video.RoomCreate) return Error(403, "permission_denied", "permissions denied");
                if (FailDeleteRoom) return Error(503, "unavailable", "no nodes available");
                return Rooms.TryRemove(Str("room", "room")!, out _) ? (200, "{}") : Error(404, "not_found", "requested room does not exist");
            case "ListRooms":
                if (!video.RoomList) return Error(403, "permission_denied", "permissions denied");
                return (200, new JsonObject { ["rooms"] = new JsonArray([.. Rooms.Values.Select(r => (JsonNode)r.DeepClone())]) }.ToJsonString());
            default:
                return Error(404, "bad_route", $"no handler for path \"/twirp/livekit.RoomService/{method}\"");
        }
    }

    private static (int, string) Error(int status, string code, string msg) =>
        (status, new JsonObject { ["code"] = code, ["msg"] = msg, ["meta"] = new JsonObject() }.ToJsonString());

    private static JsonObject Room(string name, uint emptyTimeout, uint departureTimeout, uint maxParticipants, string metadata)
    {
        var now = DateTimeOffset.UtcNow;
        return new JsonObject
        {
            ["sid"] = "RM_" + Guid.NewGuid().ToString("N")[..12],
            ["name"] = name,
            ["empty_timeout"] = emptyTimeout,
            ["departure_timeout"] = departureTimeout,
            ["max_participants"] = maxParticipants,
            ["creation_time"] = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
            ["creation_time_ms"] = now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
            ["turn_password"] = "",
            ["enabled_codecs"] = new JsonArray(new JsonObject { ["mime"] = "audio/opus", ["fmtp_line"] = "" }, new JsonObject { ["mime"] = "video/VP8", ["fmtp_line"] = "" }),
            ["metadata"] = metadata,
            ["num_participants"] = 0,
            ["num_publishers"] = 0,
            ["active_recording"] = false,
            ["version"] = new JsonObject { ["unix_micro"] = (now.ToUnixTimeMilliseconds() * 1000).ToString(CultureInfo.InvariantCulture), ["ticks"] = 0 },
        };
    }

    private static async Task Answer(HttpContext ctx, int status, string contentType, string body)
    {
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = contentType;
        await ctx.Response.WriteAsync(body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
