using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.LiveKit.Tokens;

namespace Platform.LiveKit.Webhooks;

/// <summary>Why a webhook was refused. Each is distinct so the endpoint can log what happened.</summary>
public enum WebhookRejection
{
    /// <summary>No <c>Authorization</c> header.</summary>
    MissingAuthorization,
    /// <summary>The header is <c>Bearer ...</c>: LiveKit sends the bare JWT, so this is not LiveKit.</summary>
    BearerPrefix,
    /// <summary>The header is not a well-formed HS256 JWT.</summary>
    MalformedToken,
    /// <summary>The JWT's signature does not match our API secret (forged or another key).</summary>
    BadSignature,
    /// <summary>The JWT's <c>iss</c> is not our API key.</summary>
    WrongIssuer,
    /// <summary>The JWT has expired (or has no <c>exp</c>).</summary>
    TokenExpired,
    /// <summary>The JWT is not valid yet.</summary>
    TokenNotYetValid,
    /// <summary>The JWT carries no <c>sha256</c> claim.</summary>
    MissingBodyHash,
    /// <summary>The body's SHA-256 differs from the JWT's <c>sha256</c> claim: the body was changed.</summary>
    BodyHashMismatch,
    /// <summary>The body is larger than <see cref="LiveKitOptions.MaxWebhookBodyBytes"/>.</summary>
    BodyTooLarge,
    /// <summary>The (authentic) body is not a LiveKit event: bad JSON, no id, a required part missing.</summary>
    MalformedEvent,
    /// <summary>The event's <c>createdAt</c> is outside <see cref="LiveKitOptions.WebhookWindow"/> of now.</summary>
    Stale,
    /// <summary>An event with this id was already accepted.</summary>
    Replayed,
}

/// <summary>A webhook was refused; <see cref="Reason"/> says why.</summary>
public sealed class WebhookRejectedException(WebhookRejection reason, string message, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>Why it was refused.</summary>
    public WebhookRejection Reason { get; } = reason;
}

/// <summary>
/// Receives LiveKit webhooks. In order, before anything in the body is parsed: the <c>Authorization</c> header
/// must be a bare JWT (a <c>Bearer </c> prefix is refused), signed HS256 with our API secret, issued by our API
/// key, inside its <c>nbf</c>/<c>exp</c> window; its <c>sha256</c> claim must equal base64(SHA-256(raw body)),
/// compared in constant time. Then the event is parsed, refused when its <c>createdAt</c> is further than
/// <see cref="LiveKitOptions.WebhookWindow"/> from now, and refused when its id was seen (ids are remembered in an
/// <see cref="IWebhookReplayStore"/> until they would be stale anyway).
/// </summary>
public sealed class LiveKitWebhookReceiver
{
    private readonly LiveKitOptions _options;
    private readonly LiveKitTokenVerifier _verifier;
    private readonly IWebhookReplayStore _replays;
    private readonly TimeProvider _time;

    /// <summary>Creates a receiver for the configured API key and secret.</summary>
    public LiveKitWebhookReceiver(LiveKitOptions options, IWebhookReplayStore replays, TimeProvider? time = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _verifier = new LiveKitTokenVerifier(options, _time);
        _replays = replays;
    }

    /// <summary>Verifies and parses one webhook; throws <see cref="WebhookRejectedException"/> when it must be refused.</summary>
    /// <param name="body">The raw request body, exactly as received.</param>
    /// <param name="authorization">The <c>Authorization</c> header value.</param>
    /// <param name="cancellationToken">Cancels the replay-store call.</param>
    public async ValueTask<WebhookEvent> ReceiveAsync(ReadOnlyMemory<byte> body, string? authorization, CancellationToken cancellationToken = default)
    {
        var ev = Authenticate(body.Span, authorization);
        var now = _time.GetUtcNow();
        if ((now - ev.CreatedAt).Duration() > _options.WebhookWindow)
            throw new WebhookRejectedException(WebhookRejection.Stale,
                $"LiveKit event {ev.Id} was created at {ev.CreatedAt:O}, outside the {_options.WebhookWindow} window around {now:O}.");
        // Remembered until createdAt + window (+ tolerance): after that the same event would be refused as stale.
        var expiresAt = ev.CreatedAt + _options.WebhookWindow + _options.ClockTolerance;
        if (!await _replays.TryRememberAsync(ev.Id, expiresAt, cancellationToken).ConfigureAwait(false))
            throw new WebhookRejectedException(WebhookRejection.Replayed, $"LiveKit event {ev.Id} was already received.");
        return ev;
    }

    private WebhookEvent Authenticate(ReadOnlySpan<byte> body, string? authorization)
    {
        if (string.IsNullOrWhiteSpace(authorization))
            throw new WebhookRejectedException(WebhookRejection.MissingAuthorization, "The webhook has no Authorization header.");
        var token = authorization.Trim();
        if (token.StartsWith("Bearer", StringComparison.OrdinalIgnoreCase))
            throw new WebhookRejectedException(WebhookRejection.BearerPrefix, "LiveKit sends the webhook JWT without a \"Bearer \" prefix.");
        if (body.Length > _options.MaxWebhookBodyBytes)
            throw new WebhookRejectedException(WebhookRejection.BodyTooLarge, $"The webhook body exceeds {_options.MaxWebhookBodyBytes} bytes.");

        if (!_verifier.TryVerify(token, out var verified, out var rejection))
        {
            var reason = rejection switch
            {
                TokenRejection.BadSignature => WebhookRejection.BadSignature,
                TokenRejection.WrongIssuer => WebhookRejection.WrongIssuer,
                TokenRejection.Expired or TokenRejection.MissingExpiry => WebhookRejection.TokenExpired,
                TokenRejection.NotYetValid => WebhookRejection.TokenNotYetValid,
                _ => WebhookRejection.MalformedToken,
            };
            throw new WebhookRejectedException(reason, $"The webhook token was refused: {rejection}.");
        }
        if (verified!.Grants.Sha256 is not { } claimed)
            throw new WebhookRejectedException(WebhookRejection.MissingBodyHash, "The webhook token has no sha256 claim.");

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(body, hash);
        var actualB64 = Encoding.ASCII.GetBytes(Convert.ToBase64String(hash));
        var claimedBytes = Encoding.UTF8.GetBytes(claimed);
        if (!CryptographicOperations.FixedTimeEquals(actualB64, claimedBytes))
            throw new WebhookRejectedException(WebhookRejection.BodyHashMismatch, "The webhook body does not match the sha256 claim of its token.");

        try
        {
            using var doc = JsonDocument.Parse(body.ToArray());
            var ev = WebhookEvent.Read(doc.RootElement);
            if (string.IsNullOrEmpty(ev.Id)) throw new FormatException("The LiveKit event has no id.");
            if (string.IsNullOrEmpty(ev.Name)) throw new FormatException("The LiveKit event has no event name.");
            return ev;
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException or InvalidOperationException)
        {
            throw new WebhookRejectedException(WebhookRejection.MalformedEvent, $"The webhook body is not a valid LiveKit event: {e.Message}", e);
        }
    }
}
