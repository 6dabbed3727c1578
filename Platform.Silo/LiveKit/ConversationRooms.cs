using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.LiveKit;
using Platform.LiveKit.Rooms;
using Platform.LiveKit.Tokens;

namespace Platform.Silo.LiveKit;

/// <summary>
/// The conversations' LiveKit rooms: names, creation with the conversation's limits, deletion, and the end user's
/// access token. Disabled (every call a no-op) when the <c>LiveKit</c> section is absent: the embedded transport.
/// <para>
/// Server calls use the system clock for their timeouts and admin tokens (LiveKit checks real time); the end user's
/// token is stamped on the silo's <see cref="TimeProvider"/>, the clock the conversation's limits run on.
/// </para>
/// </summary>
public sealed partial class ConversationRooms
{
    /// <summary>The name of the <see cref="IHttpClientFactory"/> client for LiveKit's RoomService.</summary>
    public const string HttpClientName = "livekit";

    private readonly LiveKitOptions _options;
    private readonly IHttpClientFactory _http;
    private readonly TimeProvider _time;
    private readonly ILogger<ConversationRooms> _logger;
    private readonly Lazy<LiveKitTokenIssuer>? _issuer;

    public ConversationRooms(IOptions<LiveKitOptions> options, IHttpClientFactory http, TimeProvider time, ILogger<ConversationRooms> logger)
    {
        _options = options.Value;
        _http = http;
        _time = time;
        _logger = logger;
        _issuer = Enabled ? new Lazy<LiveKitTokenIssuer>(() => new LiveKitTokenIssuer(_options, _time)) : null;
    }

    /// <summary>Whether LiveKit is configured; otherwise conversations get no room.</summary>
    public bool Enabled => _options.IsConfigured;

    /// <summary>The URL clients connect to (as configured, e.g. <c>wss://livekit.example.com</c>).</summary>
    public string PublicUrl => _options.Url;

    /// <summary>How long one server call may take, all attempts included (bounds the grain turn that creates a room).</summary>
    public TimeSpan RequestTimeout => _options.RequestTimeout;

    /// <summary>A new RoomService client (cheap: the handler is pooled by the factory).</summary>
    public RoomServiceClient Client() => new(_http.CreateClient(HttpClientName), _options, TimeProvider.System);

    /// <summary>
    /// Creates the room of <paramref name="id"/>: empty timeout = the absent timeout, departure timeout = the left
    /// timeout (LiveKit's default of 20 s when that is 0), the participant limit, and metadata naming the tenant and
    /// the conversation. Throws <see cref="LiveKitException"/> when LiveKit refuses or cannot be reached in time.
    /// </summary>
    public async Task<string> CreateAsync(ConversationId id, TimeSpan emptyTimeout, TimeSpan departureTimeout, int? maxParticipants)
    {
        var name = LiveKitRooms.RoomName(id);
        var metadata = new JsonObject { ["tenant_id"] = id.Tenant.Value, ["conversation_id"] = id.Local }.ToJsonString();
        var room = await Client().CreateRoomAsync(new CreateRoomOptions(name)
        {
            EmptyTimeout = emptyTimeout,
            DepartureTimeout = departureTimeout,
            MaxParticipants = maxParticipants is { } max ? (uint)max : null,
            Metadata = metadata,
        });
        LogRoomCreated(name, room.Sid);
        return name;
    }

    /// <summary>Deletes a room; true when it is gone (deleted now or already absent).</summary>
    public async Task<bool> DeleteAsync(string room, CancellationToken cancellationToken = default)
    {
        try
        {
            await Client().DeleteRoomAsync(room, cancellationToken);
            LogRoomDeleted(room);
            return true;
        }
        catch (LiveKitException e) when (e.IsNotFound)
        {
            return true;
        }
        catch (LiveKitException e)
        {
            LogDeleteFailed(room, e.Code, e);
            return false;
        }
    }

    /// <summary>
    /// Deletes a room without holding the caller (a grain turn): a failure is logged and left to the
    /// <see cref="LiveKitRoomSweeper"/>, which finds rooms whose conversation has ended.
    /// </summary>
    public void DeleteInBackground(string room) => _ = Task.Run(async () =>
    {
        try
        {
            await DeleteAsync(room);
        }
        catch (Exception e)
        {
            LogDeleteFailed(room, "exception", e);
        }
    });

    /// <summary>
    /// The end user's token for the room (join, publish camera and microphone, subscribe, publish data), valid until
    /// <paramref name="deadline"/> (the conversation's end at its maximum duration); null when that has passed.
    /// </summary>
    public (string Token, DateTimeOffset ExpiresAt)? UserToken(ConversationId id, string room, string displayName, DateTimeOffset deadline)
    {
        if (_issuer is null || deadline - _time.GetUtcNow() < TimeSpan.FromSeconds(1))
        {
            return null;
        }
        var issuer = _issuer.Value;
        var lifetime = issuer.LifetimeUntil(deadline, _options.MaxTokenLifetime);
        var token = issuer.CreateUserToken(room, LiveKitRooms.EndUserIdentity(id), displayName, lifetime);
        return (token, DateTimeOffset.FromUnixTimeSeconds((_time.GetUtcNow() + lifetime).ToUnixTimeSeconds()));
    }

    /// <summary>
    /// A render worker's token for the room (token kind <c>agent</c>, identity <c>worker-{worker}</c>, publishing on
    /// behalf of the end user), valid until <paramref name="deadline"/>; null when LiveKit is off or the deadline passed.
    /// </summary>
    public (string Token, DateTimeOffset ExpiresAt)? RenderWorkerToken(ConversationId id, string room, string worker, string displayName, DateTimeOffset deadline)
    {
        if (_issuer is null || deadline - _time.GetUtcNow() < TimeSpan.FromSeconds(1))
        {
            return null;
        }
        var issuer = _issuer.Value;
        var lifetime = issuer.LifetimeUntil(deadline, _options.MaxTokenLifetime);
        var token = issuer.CreateRenderWorkerToken(room, LiveKitRooms.RenderWorkerIdentityPrefix + worker, displayName, lifetime,
            publishOnBehalfOf: LiveKitRooms.EndUserIdentity(id));
        return (token, DateTimeOffset.FromUnixTimeSeconds((_time.GetUtcNow() + lifetime).ToUnixTimeSeconds()));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "LiveKit room {Room} created ({Sid})")]
    private partial void LogRoomCreated(string room, string sid);

    [LoggerMessage(Level = LogLevel.Information, Message = "LiveKit room {Room} deleted")]
    private partial void LogRoomDeleted(string room);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting LiveKit room {Room} failed ({Code}); the room sweep retries")]
    private partial void LogDeleteFailed(string room, string code, Exception e);
}
