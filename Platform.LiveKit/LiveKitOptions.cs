namespace Platform.LiveKit;

/// <summary>
/// Where the LiveKit server is and how to talk to it. Bound from the <c>LiveKit</c> configuration section.
/// LiveKit is optional: when <see cref="Url"/> is empty the platform uses its embedded transport.
/// </summary>
public sealed class LiveKitOptions
{
    /// <summary>The configuration section name.</summary>
    public const string Section = "LiveKit";

    /// <summary>Server URL, e.g. <c>https://livekit.example.com</c> (a <c>ws(s)://</c> URL is accepted and turned into http(s)).</summary>
    public string Url { get; set; } = "";

    /// <summary>The API key: the <c>iss</c> of every token we mint and the issuer we accept on webhooks.</summary>
    public string ApiKey { get; set; } = "";

    /// <summary>The API secret (HS256 key). Never logged.</summary>
    public string ApiSecret { get; set; } = "";

    /// <summary>Limit for one server call, all attempts included. Default 10 s (the official SDK's default).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts per idempotent call on a 5xx answer or a network error (1 = no retry). Default 3.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>Delay before the first retry; doubled for each later one. Default 200 ms.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Lifetime of the admin token minted for each server call. Default 5 minutes.</summary>
    public TimeSpan AdminTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Longest lifetime accepted for any token we mint. Default 24 hours.</summary>
    public TimeSpan MaxTokenLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Webhooks: an event whose <c>createdAt</c> is further than this from now is stale and rejected; event ids are
    /// remembered this long past their <c>createdAt</c> to reject replays. Default 5 minutes.
    /// </summary>
    public TimeSpan WebhookWindow { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Clock skew allowed when checking a token's <c>nbf</c>/<c>exp</c>. Default 10 s (the official SDK's default).</summary>
    public TimeSpan ClockTolerance { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest webhook body accepted, in bytes. Default 1 MiB.</summary>
    public int MaxWebhookBodyBytes { get; set; } = 1 << 20;

    /// <summary>Whether LiveKit is configured (URL, key and secret all set).</summary>
    public bool IsConfigured =>
        !string.IsNullOrWhiteSpace(Url) && !string.IsNullOrWhiteSpace(ApiKey) && !string.IsNullOrWhiteSpace(ApiSecret);

    internal void EnsureCredentials()
    {
        if (string.IsNullOrEmpty(ApiKey)) throw new InvalidOperationException("LiveKit:ApiKey is not set.");
        if (string.IsNullOrEmpty(ApiSecret)) throw new InvalidOperationException("LiveKit:ApiSecret is not set.");
    }
}
