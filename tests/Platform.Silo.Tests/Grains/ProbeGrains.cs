using System.Collections.Concurrent;

namespace Platform.Silo.Tests.Grains;

/// <summary>Registers a reminder and records every tick (with the logical time it saw) in <see cref="ReminderLog"/>.</summary>
[Alias("Platform.Silo.Tests.IReminderProbeGrain")]
public interface IReminderProbeGrain : IGrainWithStringKey
{
    Task RegisterAsync(TimeSpan dueTime, TimeSpan period);
    Task UnregisterAsync();
}

/// <summary>Ticks recorded by <see cref="ReminderProbeGrain"/>: the test cluster runs in this process, so one static
/// log sees the ticks of every silo. Keys are unique per test.</summary>
public static class ReminderLog
{
    private static readonly ConcurrentDictionary<string, ConcurrentQueue<ReminderTick>> Ticks = new();

    public static void Record(string key, ReminderTick tick) => Ticks.GetOrAdd(key, _ => new()).Enqueue(tick);

    public static IReadOnlyList<ReminderTick> Of(string key) =>
        Ticks.TryGetValue(key, out var q) ? [.. q] : [];
}

/// <summary>One reminder tick: the logical time the grain saw and the silo it ran on.</summary>
public sealed record ReminderTick(DateTimeOffset At, string Silo)
{
}

public sealed class ReminderProbeGrain(TimeProvider time, ILocalSiloDetails silo) : Grain, IReminderProbeGrain, IRemindable
{
    public const string Name = "probe";

    public Task RegisterAsync(TimeSpan dueTime, TimeSpan period) => this.RegisterOrUpdateReminder(Name, dueTime, period);

    public async Task UnregisterAsync()
    {
        if (await this.GetReminder(Name) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
        }
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        ReminderLog.Record(this.GetPrimaryKeyString(), new ReminderTick(time.GetUtcNow(), silo.SiloAddress.ToString()));
        return Task.CompletedTask;
    }
}

/// <summary>A grain timer on the grain's clock, and that clock's reading.</summary>
[Alias("Platform.Silo.Tests.ITimerProbeGrain")]
public interface ITimerProbeGrain : IGrainWithStringKey
{
    Task StartAsync(TimeSpan dueTime);
    Task<int> TicksAsync();
    Task<DateTimeOffset> NowAsync();
}

public sealed class TimerProbeGrain(TimeProvider time) : Grain, ITimerProbeGrain
{
    private int _ticks;

    public Task StartAsync(TimeSpan dueTime)
    {
        this.RegisterGrainTimer(() =>
        {
            _ticks++;
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(dueTime, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public Task<int> TicksAsync() => Task.FromResult(_ticks);

    public Task<DateTimeOffset> NowAsync() => Task.FromResult(time.GetUtcNow());
}
