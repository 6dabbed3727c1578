using Orleans.Concurrency;
using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Tenants;

[StatelessWorker]
internal sealed class TenantDirectoryGrain(AppDatabase database) : Grain, ITenantDirectoryGrain
{
    public async Task<IReadOnlyList<TenantInfo>> ListAsync(int page, int limit)
    {
        limit = Math.Clamp(limit, 1, 100);
        var ids = await database.ListTenantsAsync((Math.Max(1, page) - 1) * limit, limit);
        var infos = await Task.WhenAll(ids.Select(id => GrainFactory.GetGrain<ITenantGrain>(id.ToGrainKey()).GetAsync()));
        return [.. infos.OfType<TenantInfo>()];
    }
}
