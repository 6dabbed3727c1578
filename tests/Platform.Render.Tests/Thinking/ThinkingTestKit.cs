using Microsoft.Extensions.Time.Testing;
using Platform.Render.Thinking;

namespace Platform.Render.Tests.Thinking;

internal static class ThinkingTestKit
{
    /// <summary>A guard against hangs, not a measurement: real time, generous.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static async Task<List<ThinkingEvent>> CollectAsync(IAsyncEnumerable<ThinkingEvent> events, Action<ThinkingEvent>? onEvent = null)
    {
        var list = new List<ThinkingEvent>();
        var reading = Task.Run(async () =>
        {
            await foreach (var item in events)
            {
                list.Add(item);
                onEvent?.Invoke(item);
            }
        });
        try
        {
            await reading.WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The turn did not end within {Deadline}; events so far: {string.Join(" | ", list)}");
        }

        return list;
    }

    /// <summary>Moves the fake clock forward in steps until <paramref name="done"/> completes (the clock is the only thing that can end it).</summary>
    public static async Task PumpClockUntilAsync(FakeTimeProvider time, Task done, TimeSpan step, string what)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (!done.IsCompleted)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{what} did not happen within {Deadline} of real time while the fake clock advanced to {time.GetUtcNow():O}.");
            }

            time.Advance(step);
            await Task.WhenAny(done, Task.Delay(20));
        }

        await done;
    }

    public static async Task<T> Within<T>(Task<T> task, string what)
    {
        try
        {
            return await task.WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{what} did not happen within {Deadline}.");
        }
    }

    public static List<string> Clauses(this IEnumerable<ThinkingEvent> events, bool includeFallback = true) =>
        events.OfType<LlmClause>().Where(c => includeFallback || !c.IsFallback).Select(c => c.Text).ToList();

    public static LlmTurnEnded Ended(this IEnumerable<ThinkingEvent> events)
    {
        var all = events.ToList();
        Assert.IsType<LlmTurnEnded>(all[^1]);
        Assert.Single(all.OfType<LlmTurnEnded>());
        return (LlmTurnEnded)all[^1];
    }

    /// <summary>Options with timeouts far away unless a test moves the fake clock.</summary>
    public static LlmOptions Options() => new()
    {
        FirstTokenTimeout = TimeSpan.FromSeconds(5),
        StallTimeout = TimeSpan.FromSeconds(3),
        ToolResultTimeout = TimeSpan.FromSeconds(10),
    };
}
