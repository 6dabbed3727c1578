using Platform.Render.Sessions;

namespace Platform.Render.Tests.Sessions;

public sealed class PlaybackQueueTests
{
    private static readonly TimeSpan Frame = TimeSpan.FromMilliseconds(20);

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    /// <summary>Offers silent frames from <paramref name="from"/> on; how many were left out.</summary>
    private static int Offer(PlaybackQueue queue, TimeSpan from, int frames)
    {
        var skipped = 0;
        for (var i = 0; i < frames; i++)
        {
            skipped += queue.TrySkip(from + i * Frame, Frame) ? 1 : 0;
        }

        return skipped;
    }

    [Fact]
    public void Nothing_is_left_out_without_a_report_or_with_a_short_queue()
    {
        var queue = new PlaybackQueue();
        Assert.Equal(0, Offer(queue, Ms(0), 50));
        queue.Report(Ms(1_000), PlaybackQueue.MinKeep + Ms(10)); // less than a frame over what is kept
        Assert.Equal(0, Offer(queue, Ms(1_100), 50));
        Assert.Equal(TimeSpan.Zero, queue.Skipped);
    }

    [Fact]
    public void A_long_queue_is_cut_down_to_what_is_kept_and_no_further()
    {
        var queue = new PlaybackQueue();
        queue.Report(Ms(1_000), Ms(500));
        Assert.Equal(23, Offer(queue, Ms(1_540), 50)); // 500 − 30 ms: 23 frames of 20 ms
        Assert.Equal(Ms(460), queue.Skipped);

        // The next report comes before the page has the frames after the cut: its queue still reads long, but what
        // was left out beyond it is counted, so nothing more goes.
        queue.Report(Ms(1_100), Ms(440));
        Assert.Equal(0, Offer(queue, Ms(2_540), 10));

        // Once the page has played through the cut it reports what it really holds.
        queue.Report(Ms(2_600), Ms(100));
        Assert.Equal(3, Offer(queue, Ms(2_740), 10)); // 100 − 30 ms
    }

    [Fact]
    public void Silence_left_out_inside_the_pages_queue_is_already_in_its_figure()
    {
        var queue = new PlaybackQueue();
        queue.Report(Ms(0), Ms(300));
        Assert.Equal(13, Offer(queue, Ms(300), 20)); // 300 − 30 ms, left out at 300–560 ms
        // The page has played on to 200 ms and holds 200 ms: up to media time 660 ms with the 260 ms cut inside it.
        queue.Report(Ms(200), Ms(200));
        Assert.Equal(8, Offer(queue, Ms(700), 20)); // 200 − 30 ms
    }

    [Fact]
    public void Media_times_map_to_the_pages_playback_by_what_was_left_out_before_them()
    {
        var queue = new PlaybackQueue();
        queue.Report(Ms(0), Ms(130));
        Assert.Equal(5, Offer(queue, Ms(400), 10)); // 130 − 30 ms: 100 ms at 400–500 ms
        Assert.Equal(TimeSpan.Zero, queue.SkippedBefore(Ms(400)));
        Assert.Equal(Ms(40), queue.SkippedBefore(Ms(430)));
        Assert.Equal(Ms(100), queue.SkippedBefore(Ms(900)));
        // Playing 40 ms on from 380 ms, the page passes over the 100 ms left out at 400 ms.
        Assert.Equal(Ms(520), queue.Advance(Ms(380), Ms(40)));
        Assert.Equal(Ms(390), queue.Advance(Ms(350), Ms(40)));
    }

    [Fact]
    public void Each_gap_the_page_hears_makes_it_keep_more_up_to_a_limit()
    {
        var queue = new PlaybackQueue();
        Assert.Equal(PlaybackQueue.MinKeep, queue.Keep);
        queue.Report(Ms(0), Ms(200), starved: Ms(0));
        queue.Report(Ms(100), Ms(200), starved: Ms(3)); // a rounding, not a gap
        Assert.Equal(PlaybackQueue.MinKeep, queue.Keep);

        queue.Report(Ms(200), Ms(200), starved: Ms(43)); // it ran dry for 40 ms
        Assert.Equal(PlaybackQueue.MinKeep + PlaybackQueue.KeepStep, queue.Keep);
        Assert.Equal(7, Offer(queue, Ms(400), 20)); // 200 − 50 ms
        queue.Report(Ms(300), Ms(200), starved: Ms(43)); // no new gap: it keeps what it learnt
        Assert.Equal(PlaybackQueue.MinKeep + PlaybackQueue.KeepStep, queue.Keep);

        for (var i = 0; i < 10; i++)
        {
            queue.Report(Ms(400 + i * 100), Ms(200), starved: Ms(100 + i * 50));
        }

        Assert.Equal(PlaybackQueue.MaxKeep, queue.Keep);

        // A new socket counts from zero again: its next gap is measured from there.
        queue.Report(Ms(2_000), Ms(200), starved: Ms(0));
        queue.Report(Ms(2_100), Ms(200), starved: Ms(2));
        Assert.Equal(PlaybackQueue.MaxKeep, queue.Keep);
    }
}
