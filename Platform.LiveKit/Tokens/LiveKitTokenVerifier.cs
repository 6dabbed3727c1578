using System.Text.Json;

namespace Platform.LiveKit.Tokens;

/// <summary>Why a token was refused.</summary>
public enum TokenRejection
{
    /// <summary>Not three base64url segments of JSON.</summary>
    Malformed,
    /// <summary>The header's <c>alg</c> is not HS256.</summary>
    UnsupportedAlgorithm,
    /// <summary>The HMAC does not match our secret (a forged token, or another key's).</summary>
    BadSignature,
    /// <summary><c>iss</c> is not our API key.</summary>
    WrongIssuer,
    /// <summary>No <c>exp</c> claim: such a token would never expire.</summary>
    MissingExpiry,
    /// <summary><c>exp</c> has passed (beyond the clock tolerance).</summary>
    Expired,
    /// <summary><c>nbf</c> is still in the future (beyond the clock tolerance).</summary>
    NotYetValid,
}

/// <summary>A token whose signature, issuer and time window were checked.</summary>
/// <param name="Issuer">The <c>iss</c> claim (the API key).</param>
/// <param name="NotBefore">The <c>nbf</c> claim.</param>
/// <param name="ExpiresAt">The <c>exp</c> claim.</param>
/// <param name="Grants">Identity and LiveKit claims.</param>
public sealed record VerifiedToken(string Issuer, DateTimeOffset? NotBefore, DateTimeOffset? ExpiresAt, TokenGrants Grants);

/// <summary>
/// Verifies LiveKit access tokens signed with our API secret, as the LiveKit server and the official SDK's
/// <c>TokenVerifier</c> do: HS256 only, <c>iss</c> equal to the API key, <c>exp</c> required, <c>nbf</c>/<c>exp</c>
/// checked against <see cref="TimeProvider"/> with <see cref="LiveKitOptions.ClockTolerance"/>.
/// </summary>
public sealed class LiveKitTokenVerifier
{
    private readonly LiveKitOptions _options;
    private readonly TimeProvider _time;

    /// <summary>Creates a verifier for the configured API key and secret.</summary>
    public LiveKitTokenVerifier(LiveKitOptions options, TimeProvider? time = null)
    {
        options.EnsureCredentials();
        _options = options;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Verifies <paramref name="token"/>; on failure <paramref name="rejection"/> says why.</summary>
    public bool TryVerify(string token, out VerifiedToken? verified, out TokenRejection rejection)
    {
        verified = null;
        rejection = default;
        if (Jwt.TryVerifySignature(token, _options.ApiSecret, out var payload) is { } bad)
        {
            rejection = bad;
            return false;
        }
        VerifiedToken claims;
        try
        {
            claims = ClaimsJson.Read(payload);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            rejection = TokenRejection.Malformed;
            return false;
        }
        var now = _time.GetUtcNow();
        if (claims.Issuer != _options.ApiKey) rejection = TokenRejection.WrongIssuer;
        else if (claims.ExpiresAt is not { } exp) rejection = TokenRejection.MissingExpiry;
        else if (now - _options.ClockTolerance >= exp) rejection = TokenRejection.Expired;
        else if (claims.NotBefore is { } nbf && now + _options.ClockTolerance < nbf) rejection = TokenRejection.NotYetValid;
        else
        {
            verified = claims;
            return true;
        }
        return false;
    }

    /// <summary>
    /// Reads the claims of a token signed by someone else's LiveKit key (a tenant's own server, in avatar mode), without
    /// verifying it: only that server can. For checking what a token grants before handing it to a worker; never for
    /// trusting it. False when it is not a JWT with a readable LiveKit payload.
    /// </summary>
    public static bool TryReadUnverified(string token, out VerifiedToken? claims)
    {
        claims = null;
        if (!Jwt.TrySplit(token, out var first, out var last))
        {
            return false;
        }
        try
        {
            claims = ClaimsJson.Read(System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(first + 1, last - first - 1)));
            return true;
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            return false;
        }
    }

    /// <summary>Verifies <paramref name="token"/> or throws <see cref="LiveKitTokenException"/>.</summary>
    public VerifiedToken Verify(string token) =>
        TryVerify(token, out var verified, out var rejection) ? verified! : throw new LiveKitTokenException(rejection);
}

/// <summary>A token failed verification.</summary>
public sealed class LiveKitTokenException(TokenRejection rejection)
    : Exception($"LiveKit token rejected: {rejection}.")
{
    /// <summary>Why it was rejected.</summary>
    public TokenRejection Rejection { get; } = rejection;
}
