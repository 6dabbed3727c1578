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

    [Fact]
    public void Audio_leaves_with_its_shorter_lead_on_the_clock_the_picture_shares()
    {
        var time = new FakeTimeProvider();
        var pacer = new OutputPacer(time, Lead, audioLead: TimeSpan.FromMilliseconds(10));
        var start = time.GetTimestamp();
        time.Advance(TimeSpan.FromMilliseconds(20)); // the first 20 ms of audio exist
        var audio = pacer.Due(TimeSpan.FromMilliseconds(20), pacer.AudioLead);
        time.Advance(TimeSpan.FromMilliseconds(12)); // the frame stamped 0 took 12 ms more to render and encode
        var video = pacer.Due(TimeSpan.Zero);
        time.Advance(TimeSpan.FromMilliseconds(20));
        var nextAudio = pacer.Due(TimeSpan.FromMilliseconds(40), pacer.AudioLead);

        Assert.Equal(30, time.GetElapsedTime(start, audio).TotalMilliseconds, 1);     // 10 ms after it existed
        Assert.Equal(40, time.GetElapsedTime(start, video).TotalMilliseconds, 1);     // 40 ms after its media time
        Assert.Equal(50, time.GetElapsedTime(start, nextAudio).TotalMilliseconds, 1); // on the same clock, 20 ms on
        Assert.Equal(0, pacer.Restarts);

        // A stall restarts the one clock: the next items of both streams keep their leads from there.
        time.Advance(TimeSpan.FromSeconds(1));
        var late = pacer.Due(TimeSpan.FromMilliseconds(60), pacer.AudioLead);
        var lateVideo = pacer.Due(TimeSpan.FromMilliseconds(67));
        Assert.Equal(1, pacer.Restarts);
        Assert.Equal(10, time.GetElapsedTime(time.GetTimestamp(), late).TotalMilliseconds, 1);
        Assert.Equal(40, time.GetElapsedTime(time.GetTimestamp(), lateVideo).TotalMilliseconds, 1);

        Assert.Equal(TimeSpan.FromMilliseconds(20), new OutputPacer(time, TimeSpan.FromMilliseconds(20), audioLead: TimeSpan.FromMilliseconds(50)).AudioLead);
    }
}
