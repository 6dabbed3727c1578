namespace Platform.Contracts;

/// <summary>A tenant's commercial plan: price, included minutes and the limits the grains enforce.</summary>
[GenerateSerializer, Immutable]
public sealed record TenantPlan(
    [property: Id(0)] string Name,
    [property: Id(1)] decimal PricePerMinute,
    [property: Id(2)] int IncludedMinutes,
    [property: Id(3)] int MaxConcurrentConversations,
    [property: Id(4)] decimal? SpendCap,
    [property: Id(5)] int RequestsPerSecond,
    [property: Id(6)] string Currency = "usd")
{
    /// <summary>The plan a new tenant gets unless the operator says otherwise.</summary>
    public static TenantPlan Default { get; } = new("starter", 0.10m, 60, 5, null, 20);
}

/// <summary>How a tenant brands the conversation page (no platform name appears on it).</summary>
[GenerateSerializer, Immutable]
public sealed record TenantBranding(
    [property: Id(0)] string? DisplayName = null,
    [property: Id(1)] string? LogoUrl = null,
    [property: Id(2)] string? PrimaryColor = null,
    [property: Id(3)] string? AccentColor = null,
    [property: Id(4)] string? CustomDomain = null,
    [property: Id(5)] IReadOnlyList<string>? EmbedOrigins = null);

/// <summary>A tenant as seen by the operator and the portal.</summary>
[GenerateSerializer, Immutable]
public sealed record TenantInfo(
    [property: Id(0)] TenantId Id,
    [property: Id(1)] string Name,
    [property: Id(2)] TenantPlan Plan,
    [property: Id(3)] TenantBranding Branding,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] int ActiveConversations);

/// <summary>An API key's public facts; the secret is shown once, at issue.</summary>
[GenerateSerializer, Immutable]
public sealed record ApiKeyInfo(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Name,
    [property: Id(2)] string Prefix,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset? LastUsedAt,
    [property: Id(5)] DateTimeOffset? RevokedAt);

/// <summary>A freshly issued key: <see cref="Secret"/> is never stored and never shown again.</summary>
[GenerateSerializer, Immutable]
public sealed record IssuedApiKey([property: Id(0)] ApiKeyInfo Info, [property: Id(1)] string Secret);

/// <summary>The answer to a request for a concurrent-conversation slot.</summary>
[GenerateSerializer, Immutable]
public sealed record SlotGrant([property: Id(0)] bool Granted, [property: Id(1)] int Limit, [property: Id(2)] int Active);

/// <summary>A tenant: profile, plan, branding, API keys and the count of live conversations. Key: <see cref="TenantId"/>.</summary>
[Alias("Platform.ITenantGrain")]
public interface ITenantGrain : IGrainWithStringKey
{
    /// <summary>Creates the tenant with its stock replicas. Fails with Conflict if it exists.</summary>
    Task<Result<TenantInfo>> CreateAsync(string name, TenantPlan? plan);

    /// <summary>The tenant, or null when it does not exist.</summary>
    Task<TenantInfo?> GetAsync();

    /// <summary>Replaces the plan; limits apply to the next request.</summary>
    Task<Result<TenantInfo>> UpdatePlanAsync(TenantPlan plan);

    /// <summary>Replaces the branding.</summary>
    Task<Result<TenantInfo>> UpdateBrandingAsync(TenantBranding branding);

    /// <summary>Issues a high-entropy API key; only its SHA-256 hash is stored.</summary>
    Task<Result<IssuedApiKey>> IssueApiKeyAsync(string name);

    /// <summary>All keys, revoked ones included, with their last-used time.</summary>
    Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync();

    /// <summary>Revokes a key at once; false when no such key.</summary>
    Task<bool> RevokeApiKeyAsync(string keyId);

    /// <summary>Makes a new secret for signing the tenant's webhooks and returns it (shown once; stored encrypted).</summary>
    Task<Result<string>> RotateWebhookSecretAsync();

    /// <summary>Takes a concurrent-conversation slot for <paramref name="conversation"/> if the plan allows.</summary>
    Task<SlotGrant> AcquireConversationSlotAsync(ConversationId conversation);

    /// <summary>Frees the slot of an ended conversation (idempotent).</summary>
    Task ReleaseConversationSlotAsync(ConversationId conversation);
}

/// <summary>What the Api learns from presenting an API key.</summary>
[GenerateSerializer, Immutable]
public sealed record ApiKeyCheck(
    [property: Id(0)] TenantId? Tenant,
    [property: Id(1)] bool RateLimited,
    [property: Id(2)] int RetryAfterSeconds,
    [property: Id(3)] int Limit);

/// <summary>One API key. Key: the lower-case hex SHA-256 of the key's secret (see <see cref="ApiKeys.Hash"/>).</summary>
[Alias("Platform.IApiKeyGrain")]
public interface IApiKeyGrain : IGrainWithStringKey
{
    /// <summary>Authenticates a request: the owning tenant (null for an unknown or revoked key) and the rate decision.</summary>
    Task<ApiKeyCheck> CheckAsync();
}

/// <summary>API key format and hashing.</summary>
public static class ApiKeys
{
    /// <summary>Prefix of every key this platform issues.</summary>
    public const string Prefix = "pk_";

    /// <summary>A new secret: the prefix and 32 random bytes (256 bits) in hex.</summary>
    public static string NewSecret() => Prefix + LocalIds.RandomHex(32);

    /// <summary>The grain key of <see cref="IApiKeyGrain"/> for a presented secret.</summary>
    public static string Hash(string secret) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));
}

/// <summary>The operator's directory of tenants. Key: 0. Stateless.</summary>
[Alias("Platform.ITenantDirectoryGrain")]
public interface ITenantDirectoryGrain : IGrainWithIntegerKey
{
    /// <summary>A page (1-based) of tenants, newest first.</summary>
    Task<IReadOnlyList<TenantInfo>> ListAsync(int page, int limit);
}
