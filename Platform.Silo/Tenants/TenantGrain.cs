using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Tenants;

[GenerateSerializer]
public sealed class TenantState
{
    [Id(0)] public string? Name { get; set; }
    [Id(1)] public TenantPlan Plan { get; set; } = TenantPlan.Default;
    [Id(2)] public TenantBranding Branding { get; set; } = new();
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public List<ApiKeyRecord> Keys { get; set; } = [];
    /// <summary>The webhook signing secret, encrypted with <see cref="SecretProtector"/>.</summary>
    [Id(5)] public string? WebhookSecret { get; set; }
}

/// <summary>Silo-internal: what the webhook dispatcher needs from a tenant.</summary>
[Alias("Platform.ITenantSecrets")]
public interface ITenantSecrets : IGrainWithStringKey
{
    /// <summary>The plaintext webhook secret, or null for a tenant that does not exist.</summary>
    Task<string?> WebhookSecretAsync();
}

[GenerateSerializer]
public sealed record ApiKeyRecord(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Name,
    [property: Id(2)] string Prefix,
    [property: Id(3)] string Hash,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? RevokedAt);

internal sealed class TenantGrain(
    [PersistentState("tenant", PostgresSchema.StorageName)] IPersistentState<TenantState> state,
    AppDatabase database,
    SecretProtector secrets,
    TimeProvider time) : Grain, ITenantGrain, ITenantSecrets
{
    // Live conversations holding a slot. Derived state: rebuilt from the index on activation, never persisted here, so
    // creating a conversation costs no write on this (hot, single) grain.
    private HashSet<string>? _active;

    private TenantId Id => new(this.GetPrimaryKeyString());
    private bool Exists => state.RecordExists && state.State.Name is not null;

    public async Task<Result<TenantInfo>> CreateAsync(string name, TenantPlan? plan)
    {
        if (Exists)
        {
            return Problem.Field(ProblemKind.Conflict, "tenant_id", $"Tenant '{Id}' already exists.");
        }
        if (Validate(name, plan ?? TenantPlan.Default) is { } problem)
        {
            return problem;
        }
        var now = time.GetUtcNow();
        state.State = new TenantState { Name = name, Plan = plan ?? TenantPlan.Default, CreatedAt = now, WebhookSecret = NewWebhookSecret().Stored };
        await state.WriteStateAsync();
        await database.UpsertTenantAsync(Id, name, now);
        foreach (var stock in StockReplica.All)
        {
            await GrainFactory.GetGrain<IReplicaGrain>(new ReplicaId(Id, stock.LocalId).ToGrainKey()).CreateStockAsync(stock);
        }
        return Result<TenantInfo>.Ok(await InfoAsync());
    }

    public async Task<TenantInfo?> GetAsync() => Exists ? await InfoAsync() : null;

    public async Task<Result<TenantInfo>> UpdatePlanAsync(TenantPlan plan)
    {
        if (!Exists)
        {
            return Problem.NotFound("tenant", Id.Value);
        }
        if (Validate(state.State.Name!, plan) is { } problem)
        {
            return problem;
        }
        state.State.Plan = plan;
        await state.WriteStateAsync();
        foreach (var key in state.State.Keys.Where(k => k.RevokedAt is null))
        {
            await GrainFactory.GetGrain<IApiKeyAdmin>(key.Hash).SetAsync(new ApiKeyGrant(Id, key.KeyId, plan.RequestsPerSecond, null));
        }
        return Result<TenantInfo>.Ok(await InfoAsync());
    }

    public async Task<Result<TenantInfo>> UpdateBrandingAsync(TenantBranding branding)
    {
        if (!Exists)
        {
            return Problem.NotFound("tenant", Id.Value);
        }
        state.State.Branding = branding;
        await state.WriteStateAsync();
        return Result<TenantInfo>.Ok(await InfoAsync());
    }

    public async Task<Result<IssuedApiKey>> IssueApiKeyAsync(string name)
    {
        if (!Exists)
        {
            return Problem.NotFound("tenant", Id.Value);
        }
        if (string.IsNullOrWhiteSpace(name) || name.Length > 100)
        {
            return Problem.Field(ProblemKind.Invalid, "name", "'name' must be 1 to 100 characters.");
        }
        var secret = ApiKeys.NewSecret();
        var hash = ApiKeys.Hash(secret);
        var record = new ApiKeyRecord("key_" + LocalIds.RandomHex(6), name, secret[..(ApiKeys.Prefix.Length + 6)], hash, time.GetUtcNow(), null);
        // The key grain learns its tenant first: a key listed on the tenant always authenticates.
        await GrainFactory.GetGrain<IApiKeyAdmin>(hash).SetAsync(new ApiKeyGrant(Id, record.KeyId, state.State.Plan.RequestsPerSecond, null));
        state.State.Keys.Add(record);
        await state.WriteStateAsync();
        return Result<IssuedApiKey>.Ok(new IssuedApiKey(await KeyInfoAsync(record), secret));
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync()
    {
        var list = new List<ApiKeyInfo>();
        foreach (var key in state.State.Keys)
        {
            list.Add(await KeyInfoAsync(key));
        }
        return list;
    }

    public async Task<bool> RevokeApiKeyAsync(string keyId)
    {
        var index = state.State.Keys.FindIndex(k => k.KeyId == keyId);
        if (index < 0)
        {
            return false;
        }
        var key = state.State.Keys[index];
        if (key.RevokedAt is null)
        {
            var now = time.GetUtcNow();
            await GrainFactory.GetGrain<IApiKeyAdmin>(key.Hash).SetAsync(new ApiKeyGrant(Id, key.KeyId, 0, now));
            state.State.Keys[index] = key with { RevokedAt = now };
            await state.WriteStateAsync();
        }
        return true;
    }

    public async Task<Result<string>> RotateWebhookSecretAsync()
    {
        if (!Exists)
        {
            return Problem.NotFound("tenant", Id.Value);
        }
        var (plain, stored) = NewWebhookSecret();
        state.State.WebhookSecret = stored;
        await state.WriteStateAsync();
        return Result<string>.Ok(plain);
    }

    public Task<string?> WebhookSecretAsync() =>
        Task.FromResult(Exists && state.State.WebhookSecret is { } stored ? secrets.Unprotect(stored, $"{Id}/webhook") : null);

    private (string Plain, string Stored) NewWebhookSecret()
    {
        var plain = "whsec_" + LocalIds.RandomHex(32);
        return (plain, secrets.Protect(plain, $"{Id}/webhook"));
    }

    public async Task<SlotGrant> AcquireConversationSlotAsync(ConversationId conversation)
    {
        var active = await ActiveAsync();
        var limit = state.State.Plan.MaxConcurrentConversations;
        if (active.Contains(conversation.Local))
        {
            return new SlotGrant(true, limit, active.Count);
        }
        if (!Exists || active.Count >= limit)
        {
            return new SlotGrant(false, limit, active.Count);
        }
        active.Add(conversation.Local);
        return new SlotGrant(true, limit, active.Count);
    }

    public async Task ReleaseConversationSlotAsync(ConversationId conversation) => (await ActiveAsync()).Remove(conversation.Local);

    private async Task<HashSet<string>> ActiveAsync() =>
        _active ??= [.. await database.ActiveConversationsAsync(Id)];

    private async Task<TenantInfo> InfoAsync() =>
        new(Id, state.State.Name!, state.State.Plan, state.State.Branding, state.State.CreatedAt, (await ActiveAsync()).Count);

    private async Task<ApiKeyInfo> KeyInfoAsync(ApiKeyRecord key)
    {
        var lastUsed = await GrainFactory.GetGrain<IApiKeyAdmin>(key.Hash).LastUsedAsync();
        return new ApiKeyInfo(key.KeyId, key.Name, key.Prefix, key.CreatedAt, lastUsed, key.RevokedAt);
    }

    private static Problem? Validate(string name, TenantPlan plan)
    {
        var errors = new List<FieldError>();
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
        {
            errors.Add(new FieldError("name", "'name' must be 1 to 200 characters."));
        }
        if (plan.MaxConcurrentConversations is < 0 or > 100_000)
        {
            errors.Add(new FieldError("plan.max_concurrent_conversations", "'plan.max_concurrent_conversations' must be from 0 to 100000."));
        }
        if (plan.RequestsPerSecond is < 1 or > 100_000)
        {
            errors.Add(new FieldError("plan.requests_per_second", "'plan.requests_per_second' must be from 1 to 100000."));
        }
        if (plan.PricePerMinute < 0)
        {
            errors.Add(new FieldError("plan.price_per_minute", "'plan.price_per_minute' must not be negative."));
        }
        if (plan.IncludedMinutes < 0)
        {
            errors.Add(new FieldError("plan.included_minutes", "'plan.included_minutes' must not be negative."));
        }
        if (plan.SpendCap is < 0)
        {
            errors.Add(new FieldError("plan.spend_cap", "'plan.spend_cap' must not be negative."));
        }
        return errors.Count > 0 ? Problem.Invalid(errors) : null;
    }
}
