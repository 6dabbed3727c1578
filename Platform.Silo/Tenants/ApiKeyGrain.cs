using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Tenants;

/// <summary>What the tenant grain tells a key grain: its owner, its rate, or that it is revoked.</summary>
[GenerateSerializer, Immutable]
public sealed record ApiKeyGrant(
    [property: Id(0)] TenantId Tenant,
    [property: Id(1)] string KeyId,
    [property: Id(2)] int RequestsPerSecond,
    [property: Id(3)] DateTimeOffset? RevokedAt);

/// <summary>Silo-internal side of the key grain: only the tenant grain sets it.</summary>
[Alias("Platform.IApiKeyAdmin")]
public interface IApiKeyAdmin : IGrainWithStringKey
{
    Task SetAsync(ApiKeyGrant grant);
    Task<DateTimeOffset?> LastUsedAsync();
}

[GenerateSerializer]
public sealed class ApiKeyState
{
    [Id(0)] public ApiKeyGrant? Grant { get; set; }
    [Id(1)] public DateTimeOffset? LastUsedAt { get; set; }
}

/// <summary>
/// One API key, keyed by the SHA-256 of its secret (the secret itself is never stored). Authenticates and rate-limits
/// with a token bucket (burst = one second's allowance); the last-used time is persisted at most once a minute.
/// </summary>
internal sealed class ApiKeyGrain(
    [PersistentState("apikey", PostgresSchema.StorageName)] IPersistentState<ApiKeyState> state,
    TimeProvider time) : Grain, IApiKeyGrain, IApiKeyAdmin
{
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);
    private double _tokens = -1;
    private long _refilledAt;

    public async Task<ApiKeyCheck> CheckAsync()
    {
        var grant = state.State.Grant;
        if (grant is null || grant.RevokedAt is not null)
        {
            return new ApiKeyCheck(null, false, 0, 0);
        }
        var rate = Math.Max(1, grant.RequestsPerSecond);
        var now = time.GetTimestamp();
        if (_tokens < 0)
        {
            _tokens = rate;
        }
        else
        {
            _tokens = Math.Min(rate, _tokens + time.GetElapsedTime(_refilledAt, now).TotalSeconds * rate);
        }
        _refilledAt = now;
        if (_tokens < 1)
        {
            var retryAfter = (int)Math.Ceiling((1 - _tokens) / rate);
            return new ApiKeyCheck(grant.Tenant, true, Math.Max(1, retryAfter), rate);
        }
        _tokens -= 1;
        var utcNow = time.GetUtcNow();
        if (state.State.LastUsedAt is not { } last || utcNow - last >= LastUsedResolution)
        {
            state.State.LastUsedAt = utcNow;
            await state.WriteStateAsync();
        }
        return new ApiKeyCheck(grant.Tenant, false, 0, rate);
    }

    public async Task SetAsync(ApiKeyGrant grant)
    {
        state.State.Grant = grant;
        await state.WriteStateAsync();
    }

    public Task<DateTimeOffset?> LastUsedAsync() => Task.FromResult(state.State.LastUsedAt);
}
