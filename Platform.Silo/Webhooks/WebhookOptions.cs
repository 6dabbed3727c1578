namespace Platform.Silo.Webhooks;

/// <summary>Delivery of conversation callbacks to tenants' <c>callback_url</c>. Bound from the "Webhooks" section.</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Allow private, loopback and link-local targets (refused by default: they reach our own network).</summary>
    public bool AllowPrivateTargets { get; set; }

    /// <summary>Per-attempt timeout.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Waits before each retry; after the last one the delivery is marked failed.</summary>
    public TimeSpan[] Backoff { get; set; } =
    [
        TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10),
        TimeSpan.FromMinutes(30), TimeSpan.FromHours(2), TimeSpan.FromHours(6),
    ];
}
