using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Conversations;

/// <summary>
/// The safety net behind each conversation's own timer: every few seconds (on the silo's TimeProvider) it asks
/// PostgreSQL for live conversations whose next limit has passed and pokes their grains, which decide. Because it reads
/// the database, it also ends conversations whose silo died or restarted. Every silo runs one; a duplicate poke is harmless.
/// </summary>
internal sealed class DeadlineSweeper(AppDatabase database, IGrainFactory grains, TimeProvider time, ILogger<DeadlineSweeper> logger)
    : PeriodicService(time, logger)
{
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan PrunePeriod = TimeSpan.FromHours(1);
    private TimeSpan _sincePrune;

    protected override TimeSpan Period => SweepPeriod;

    protected override async Task RunPassAsync(CancellationToken stoppingToken)
    {
        await SweepOnceAsync();
        _sincePrune += SweepPeriod;
        if (_sincePrune >= PrunePeriod)
        {
            _sincePrune = TimeSpan.Zero;
            await database.PruneIdempotencyAsync(Time.GetUtcNow() - IdempotentCreateGrain.Retention);
        }
    }

    public async Task<int> SweepOnceAsync()
    {
        var overdue = await database.OverdueConversationsAsync(Time.GetUtcNow(), 500);
        await Task.WhenAll(overdue.Select(id => grains.GetGrain<IConversationGrain>(id.ToGrainKey()).EnforceLimitsAsync()));
        return overdue.Count;
    }
}
