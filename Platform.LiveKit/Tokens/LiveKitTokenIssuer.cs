using System.Security.Cryptography;
using Platform.LiveKit.Rooms;

namespace Platform.LiveKit.Tokens;

/// <summary>
/// Mints LiveKit access tokens (HS256 JWT, <c>iss</c> = API key, <c>nbf</c> = now, <c>exp</c> = now + lifetime)
/// with exactly the grants each party needs. Lifetimes come from the caller, who bounds them by the conversation's
/// limits; any lifetime must be positive and at most <see cref="LiveKitOptions.MaxTokenLifetime"/>.
/// </summary>
public sealed class LiveKitTokenIssuer
{
    private static readonly IReadOnlyList<TrackSource> CameraAndMicrophone = [TrackSource.Camera, TrackSource.Microphone];

    private readonly LiveKitOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates an issuer for the configured API key and secret.</summary>
    public LiveKitTokenIssuer(LiveKitOptions options, TimeProvider? time = null)
    {
        options.EnsureCredentials();
        _options = options;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// The end user's token: join <paramref name="room"/>, publish the camera and microphone only, subscribe,
    /// publish data; <c>kind</c> <c>standard</c>.
    /// </summary>
    /// <param name="room">The conversation's room.</param>
    /// <param name="identity">The participant identity (stable for the conversation).</param>
    /// <param name="displayName">The name other participants see.</param>
    /// <param name="lifetime">How long the token may be used to join; bounded by the conversation's remaining time.</param>
    /// <param name="metadata">Optional participant metadata.</param>
    public string CreateUserToken(string room, string identity, string displayName, TimeSpan lifetime, string? metadata = null)
    {
        RequireName(room, nameof(room));
        RequireName(identity, nameof(identity));
        return CreateToken(new TokenGrants
        {
            Identity = identity,
            Name = displayName,
            Kind = TokenKinds.Standard,
            Metadata = metadata,
            Video = ParticipantGrant(room),
        }, lifetime);
    }

    /// <summary>
    /// The render worker's token: <c>kind</c> <c>agent</c>; join <paramref name="room"/>, publish (the replica's
    /// camera and microphone), subscribe (the user's microphone), publish data. When the speech it renders comes
    /// from another participant, <paramref name="publishOnBehalfOf"/> sets attribute <c>lk.publish_on_behalf</c>.
    /// </summary>
    public string CreateRenderWorkerToken(
        string room, string identity, string displayName, TimeSpan lifetime, string? publishOnBehalfOf = null, string? metadata = null)
    {
        RequireName(room, nameof(room));
        RequireName(identity, nameof(identity));
        return CreateToken(new TokenGrants
        {
            Identity = identity,
            Name = displayName,
            Kind = TokenKinds.Agent,
            Metadata = metadata,
            Attributes = string.IsNullOrEmpty(publishOnBehalfOf)
                ? null
                : new Dictionary<string, string> { [AgentAttributes.PublishOnBehalf] = publishOnBehalfOf },
            Video = ParticipantGrant(room) with { Agent = true },
        }, lifetime);
    }

    /// <summary>What a call participant may do: join the room, publish camera and microphone only, subscribe, send data.</summary>
    private static VideoGrant ParticipantGrant(string room) => new()
    {
        RoomJoin = true,
        Room = room,
        CanPublish = true,
        CanPublishSources = CameraAndMicrophone,
        CanSubscribe = true,
        CanPublishData = true,
    };

    /// <summary>A short-lived server token carrying only <paramref name="grant"/> (see <see cref="VideoGrant.ForRoomAdmin"/>).</summary>
    public string CreateAdminToken(VideoGrant grant, TimeSpan? lifetime = null)
    {
        if (grant.RoomJoin) throw new ArgumentException("An admin token does not join rooms.", nameof(grant));
        return CreateToken(new TokenGrants { Video = grant }, lifetime ?? _options.AdminTokenLifetime);
    }

    /// <summary>The <c>Authorization</c> value LiveKit sends with a webhook: a token whose <c>sha256</c> claim hashes <paramref name="body"/>.</summary>
    public string CreateWebhookToken(ReadOnlySpan<byte> body, TimeSpan? lifetime = null) =>
        CreateToken(new TokenGrants { Sha256 = Convert.ToBase64String(SHA256.HashData(body)) }, lifetime ?? TimeSpan.FromMinutes(5));

    /// <summary>Any token: <paramref name="grants"/> signed with <c>nbf</c> = now and <c>exp</c> = now + <paramref name="lifetime"/>.</summary>
    public string CreateToken(TokenGrants grants, TimeSpan lifetime)
    {
        if (lifetime <= TimeSpan.Zero || lifetime > _options.MaxTokenLifetime)
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, $"A token lifetime must be positive and at most {_options.MaxTokenLifetime}.");
        if (grants.Video is { RoomJoin: true } && string.IsNullOrEmpty(grants.Identity))
            throw new ArgumentException("A token that joins a room needs an identity.", nameof(grants));
        var now = _time.GetUtcNow();
        // Whole seconds, rounded down: a token never outlives the bound its caller computed.
        var notBefore = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var expires = DateTimeOffset.FromUnixTimeSeconds((now + lifetime).ToUnixTimeSeconds());
        return Jwt.Sign(ClaimsJson.Write(_options.ApiKey, notBefore, expires, grants), _options.ApiSecret);
    }

    /// <summary>
    /// The lifetime to ask for when a token must not outlive <paramref name="deadline"/> (e.g. the conversation's
    /// end at its maximum duration): <paramref name="wanted"/>, shortened to the time left until the deadline.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The deadline has passed.</exception>
    public TimeSpan LifetimeUntil(DateTimeOffset deadline, TimeSpan wanted)
    {
        var left = deadline - _time.GetUtcNow();
        if (left < TimeSpan.FromSeconds(1))
            throw new ArgumentOutOfRangeException(nameof(deadline), deadline, "The deadline has passed: no token can be issued.");
        return wanted < left ? wanted : left;
    }

    private static void RequireName(string value, string name)
    {
        if (string.IsNullOrWhiteSpace(value)) throw new ArgumentException($"'{name}' is required.", name);
    }
}
