using Orleans.Concurrency;
using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Catalog;

/// <summary>Tenant-scoped listings; stateless, so every silo serves them locally.</summary>
[StatelessWorker]
internal sealed class CatalogGrain(AppDatabase database) : Grain, ICatalogGrain
{
    public const int MaxLimit = 100;

    public Task<Page<string>> ListAsync(ResourceKind kind, int page, int limit, string? field = null, string? value = null) =>
        database.ListAsync(new TenantId(this.GetPrimaryKeyString()), kind, Math.Max(1, page), Math.Clamp(limit, 1, MaxLimit),
            field is null || value is null ? null : (field, value));
}
