using Microsoft.Extensions.Options;
using Platform.Api.Infrastructure;
using Platform.Contracts;
using Platform.LiveKit;
using Platform.LiveKit.Rooms;
using Platform.LiveKit.Webhooks;

namespace Platform.Api.LiveKit;

/// <summary>
/// <c>POST /webhooks/livekit</c>: LiveKit's webhooks, verified by <see cref="LiveKitWebhookReceiver"/> (bare JWT,
/// body sha256, freshness, replay) before anything is parsed, then mapped onto the conversation grains: joins and
/// leaves to the presence record (render workers, token kind <c>agent</c> or identity prefix <c>worker-</c>, as the
/// replica), <c>room_finished</c> to everyone leaving, <c>track_published</c> to a conversation event. Every accepted
/// event is answered 200, unknown and irrelevant ones included; a replay is answered 200 and not applied; anything
/// refused is a 401 problem. 404 when LiveKit is not configured.
/// </summary>
public static partial class LiveKitWebhooksApi
{
    public const string Path = "/webhooks/livekit";

    public static IServiceCollection AddLiveKitWebhooks(this IServiceCollection services)
    {
        services.AddOptions<LiveKitOptions>().BindConfiguration(LiveKitOptions.Section)
            .Validate(o => o.IsConfigured || (string.IsNullOrWhiteSpace(o.Url) && string.IsNullOrWhiteSpace(o.ApiKey) && string.IsNullOrWhiteSpace(o.ApiSecret)),
                "LiveKit: set Url, ApiKey and ApiSecret together (or none of them for the embedded transport).")
            .ValidateOnStart();
        services.AddSingleton(_ => new RetryableReplayStore(TimeProvider.System));
        services.AddSingleton(sp => new LiveKitWebhookReceiver(sp.GetRequiredService<IOptions<LiveKitOptions>>().Value,
            sp.GetRequiredService<RetryableReplayStore>(), TimeProvider.System));
        return services;
    }

    public static IEndpointRouteBuilder MapLiveKitWebhooks(this IEndpointRouteBuilder app)
    {
        app.MapPost(Path, ReceiveAsync).WithTags("LiveKit").WithName("LiveKitWebhook").ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> ReceiveAsync(HttpContext http, IOptions<LiveKitOptions> options, IServiceProvider services,
        IGrainFactory grains, ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger(typeof(LiveKitWebhooksApi));
        if (!options.Value.IsConfigured)
        {
            return ProblemResults.From(new Problem(ProblemKind.NotFound, "LiveKit is not configured on this platform.", []));
        }
        var body = await ReadBodyAsync(http.Request, options.Value.MaxWebhookBodyBytes, http.RequestAborted);
        WebhookEvent ev;
        try
        {
            ev = await services.GetRequiredService<LiveKitWebhookReceiver>()
                .ReceiveAsync(body, http.Request.Headers.Authorization.ToString(), http.RequestAborted);
        }
        catch (WebhookRejectedException e) when (e.Reason == WebhookRejection.Replayed)
        {
            LogReplay(logger, e.Message);
            return Results.Ok();
        }
        catch (WebhookRejectedException e)
        {
            LogRejected(logger, e.Reason.ToString(), e.Message);
            return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Webhook refused",
                detail: $"The LiveKit webhook was refused: {e.Reason}.", extensions: new Dictionary<string, object?> { ["reason"] = e.Reason.ToString() });
        }

        if (ev.Room?.Name is not { } roomName || LiveKitRooms.ConversationOf(roomName) is not { } id)
        {
            LogIgnored(logger, ev.Name, ev.Id, ev.Room?.Name ?? "");
            return Results.Ok();
        }
        Result<ConversationInfo>? result;
        try
        {
            result = await ApplyAsync(grains.GetGrain<IConversationGrain>(id.ToGrainKey()), ev);
        }
        catch (Exception) when (!http.RequestAborted.IsCancellationRequested)
        {
            // Not applied (e.g. the cluster is unreachable): the answer is not 2xx, and LiveKit's retry must not count as a replay.
            services.GetRequiredService<RetryableReplayStore>().Forget(ev.Id);
            throw;
        }
        if (result is null)
        {
            LogIgnored(logger, ev.Name, ev.Id, roomName);
        }
        else if (!result.IsOk)
        {
            // Nothing LiveKit could fix by retrying (the conversation ended or is gone): acknowledged.
            LogNotApplied(logger, ev.Name, ev.Id, roomName, result.Problem!.Detail);
        }
        return Results.Ok();
    }

    private static async Task<Result<ConversationInfo>?> ApplyAsync(IConversationGrain grain, WebhookEvent ev) =>
        ev switch
        {
            ParticipantJoinedEvent j when RoleOf(j.Participant) is { } role => await grain.JoinedAsync(role, j.Participant.Identity),
            ParticipantLeftEvent l when RoleOf(l.Participant) is { } role => await grain.LeftAsync(role, l.Participant.Identity),
            RoomFinishedEvent => await grain.RoomFinishedAsync(),
            TrackPublishedEvent t when RoleOf(t.Participant) is { } role => await grain.TrackPublishedAsync(role, t.Participant.Identity,
                new PublishedTrack(t.Track.Sid, t.Track.Type.ToString().ToLowerInvariant(), t.Track.Source.ToString().ToLowerInvariant(), t.Track.Name, t.Track.MimeType)),
            _ => null,
        };

    /// <summary>End users (standard and SIP participants) and the render worker; recorders and ingress are not presence.</summary>
    private static PresenceRole? RoleOf(LiveKitParticipant p) => p.Kind switch
    {
        ParticipantKind.Agent => PresenceRole.Replica,
        _ when p.Identity.StartsWith(LiveKitRooms.RenderWorkerIdentityPrefix, StringComparison.Ordinal) => PresenceRole.Replica,
        ParticipantKind.Standard or ParticipantKind.Sip => PresenceRole.Participant,
        _ => null,
    };

    /// <summary>The raw body, at most <paramref name="limit"/> + 1 bytes (the receiver refuses anything over the limit).</summary>
    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                break;
            }
        }
        return buffer.ToArray();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "LiveKit webhook replayed, acknowledged and not applied: {Message}")]
    private static partial void LogReplay(ILogger logger, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "LiveKit webhook refused ({Reason}): {Message}")]
    private static partial void LogRejected(ILogger logger, string reason, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "LiveKit webhook {Event} ({Id}) for room '{Room}' acknowledged and ignored")]
    private static partial void LogIgnored(ILogger logger, string @event, string id, string room);

    [LoggerMessage(Level = LogLevel.Information, Message = "LiveKit webhook {Event} ({Id}) for room '{Room}' not applied: {Detail}")]
    private static partial void LogNotApplied(ILogger logger, string @event, string id, string room, string detail);
}
