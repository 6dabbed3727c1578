using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Conversations;

/// <summary>
/// The safety net behind each conversation's own timer: every few seconds (on the silo's TimeProvider) it asks
/// PostgreSQL for live conversations whose next limit has passed and pokes their grains, which decide. Because it reads
/// the database, it also ends conversations whose silo died or restarted. Every silo runs one; a duplicate poke is harmless.
/// </summary>
internal sealed partial class DeadlineSweeper(AppDatabase database, IGrainFactory grains, TimeProvider time, ILogger<DeadlineSweeper> logger)
    : BackgroundService
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Period, time);
        var sincePrune = TimeSpan.Zero;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SweepOnceAsync();
                sincePrune += Period;
                if (sincePrune >= TimeSpan.FromHours(1))
                {
                    sincePrune = TimeSpan.Zero;
                    await database.PruneIdempotencyAsync(time.GetUtcNow() - IdempotentCreateGrain.Retention);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(e);
            }
        }
    }

    public async Task<int> SweepOnceAsync()
    {
        var overdue = await database.OverdueConversationsAsync(time.GetUtcNow(), 500);
        await Task.WhenAll(overdue.Select(id => grains.GetGrain<IConversationGrain>(id.ToGrainKey()).EnforceLimitsAsync()));
        return overdue.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deadline sweep failed; retrying next period")]
    private partial void LogSweepFailed(Exception e);
}
