using Microsoft.Extensions.Time.Testing;
using Platform.Render.Sessions;

namespace Platform.Render.Tests.Sessions;

public sealed class OutputPacerTests
{
    private static readonly TimeSpan Lead = TimeSpan.FromMilliseconds(40);

    [Fact]
    public void Items_made_late_leave_on_their_media_clock_a_lead_after_the_earliest()
    {
        var time = new FakeTimeProvider();
        var pacer = new OutputPacer(time, Lead);
        using var sender = new PacedSender(time, startThread: false);
        var sent = new List<(int Frame, TimeSpan At)>();
        var start = time.GetUtcNow();
        // 30 fps frames: the first made on time, the second 27 ms late (the session was busy), the third on time.
        var made = new Dictionary<int, int> { [0] = 0, [60] = 1, [70] = 2 };
        for (var ms = 0; ms <= 120; ms++)
        {
            if (made.TryGetValue(ms, out var frame))
            {
                sender.Schedule(pacer.Due(TimeSpan.FromTicks(frame * TimeSpan.TicksPerSecond / 30)), () => sent.Add((frame, time.GetUtcNow() - start)));
            }

            sender.RunDue();
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal([0, 1, 2], sent.Select(s => s.Frame));
        Assert.Equal([40, 74, 107], sent.Select(s => (int)s.At.TotalMilliseconds));
        Assert.Equal(0, pacer.Restarts);
    }

    [Fact]
    public void A_late_item_within_the_limit_leaves_at_once_and_one_far_behind_restarts_the_clock()
    {
        var time = new FakeTimeProvider();
        var pacer = new OutputPacer(time, Lead, maxLate: TimeSpan.FromMilliseconds(250));
        var first = pacer.Due(TimeSpan.Zero);
        Assert.Equal(Lead, time.GetElapsedTime(time.GetTimestamp(), first));

        time.Advance(TimeSpan.FromMilliseconds(100)); // media 33 ms is due at 73 ms: 27 ms late
        Assert.True(pacer.Due(TimeSpan.FromMilliseconds(33)) <= time.GetTimestamp());
        Assert.Equal(0, pacer.Restarts);

        time.Advance(TimeSpan.FromSeconds(1)); // the input stalled a second
        var due = pacer.Due(TimeSpan.FromMilliseconds(67));
        Assert.Equal(1, pacer.Restarts);
        Assert.Equal(Lead, time.GetElapsedTime(time.GetTimestamp(), due));
    }
}
