namespace Platform.Api.Tests;

/// <summary>Waits for a condition with a deadline, failing with a message that says what did not happen.</summary>
public static class Eventually
{
    public static async Task<T> ReturnsAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, int timeoutMs = 15_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        T last;
        while (true)
        {
            last = await probe();
            if (done(last))
            {
                return last;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{what} did not happen within {timeoutMs} ms; last value: {last}");
            }
            await Task.Delay(20);
        }
    }
}
