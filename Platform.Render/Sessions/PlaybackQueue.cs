namespace Platform.Render.Sessions;

/// <summary>
/// Keeps the page's playback queue short. The session's audio flows at the media clock's pace, silence included, so
/// whatever the page's queue gains in a burst (the page, the socket or the worker stalled, then everything came at
/// once) or by clock drift would stay as latency for the rest of the call, and every answer would be heard that much
/// later. The page reports how much it has queued behind its read head (<c>system.playback</c> <c>queued</c>); while
/// the replica is silent the session leaves out that much silence, less <see cref="Keep"/> (for the network's jitter),
/// and less what it left out beyond what the page holds (not in the page's figure yet). The page then plays on
/// without a gap, earlier: only the media time at its read head jumps. The echo canceller keeps its reference as the
/// page plays it (<see cref="Perception.EchoCanceller.SkipReference"/>), so the echo's delay does not move. What is
/// kept starts at <see cref="MinKeep"/> (every millisecond of it delays each answer) and grows by
/// <see cref="KeepStep"/>, up to <see cref="MaxKeep"/>, each time the page says its queue ran dry (a gap heard: the
/// way to it has more jitter than the queue absorbed). Media time, no wall clock; one caller (the session's loop).
/// </summary>
public sealed class PlaybackQueue
{
    /// <summary>What the page is left with at first: the jitter of a quiet local network.</summary>
    public static readonly TimeSpan MinKeep = TimeSpan.FromMilliseconds(30);

    /// <summary>What is kept more after each report of a gap.</summary>
    public static readonly TimeSpan KeepStep = TimeSpan.FromMilliseconds(20);

    /// <summary>The most kept: a page whose way has more jitter than this hears gaps rather than late answers.</summary>
    public static readonly TimeSpan MaxKeep = TimeSpan.FromMilliseconds(150);

    /// <summary>A dry spell shorter than this (a rounding, one render quantum) is not a gap.</summary>
    private static readonly TimeSpan Gap = TimeSpan.FromMilliseconds(5);

    private static readonly TimeSpan History = TimeSpan.FromSeconds(30);

    private readonly List<(TimeSpan At, TimeSpan Length)> _skips = [];
    private TimeSpan _budget;
    private TimeSpan _starved;

    /// <summary>What the page is left with now: enough for the jitter of the way to it, as far as its gaps tell.</summary>
    public TimeSpan Keep { get; private set; } = MinKeep;

    /// <summary>All the silence left out so far.</summary>
    public TimeSpan Skipped { get; private set; }

    /// <summary>The page played media time <paramref name="position"/> with <paramref name="queued"/> behind it.</summary>
    /// <remarks>Silence left out inside the page's queue is in its figure already; silence left out beyond it is not
    /// yet.</remarks>
    /// <param name="starved">When the page says it: all the time its queue has run dry so far (it played silence for
    /// audio that had not come). Each increase of it is a gap heard, and the queue kept grows.</param>
    public void Report(TimeSpan position, TimeSpan queued, TimeSpan? starved = null)
    {
        if (starved is { } dry)
        {
            if (dry - _starved >= Gap)
            {
                Keep = Keep + KeepStep > MaxKeep ? MaxKeep : Keep + KeepStep;
            }

            // A page that started over (a new socket counts from zero) is measured from its own figure.
            _starved = dry;
        }

        _budget = queued - Keep - SkippedSince(Advance(position, queued));
    }

    /// <summary>The media time the page reaches by playing <paramref name="played"/> on from
    /// <paramref name="position"/>: the silence left out on the way is passed over.</summary>
    public TimeSpan Advance(TimeSpan position, TimeSpan played)
    {
        var end = position + played;
        foreach (var (at, length) in _skips)
        {
            if (at >= position && at < end)
            {
                end += length;
            }
        }

        return end;
    }

    /// <summary>Whether to leave out the silent output at <paramref name="at"/> (of <paramref name="length"/>);
    /// true: the caller does not send it.</summary>
    public bool TrySkip(TimeSpan at, TimeSpan length)
    {
        if (length <= TimeSpan.Zero || _budget < length)
        {
            return false;
        }

        _budget -= length;
        Skipped += length;
        _skips.Add((at, length));
        if (_skips[0].At < at - History)
        {
            _skips.RemoveAt(0);
        }

        return true;
    }

    /// <summary>The silence left out before media time <paramref name="mediaTime"/> (within the last 30 s): the page
    /// played <paramref name="mediaTime"/> that much earlier on its own playback.</summary>
    public TimeSpan SkippedBefore(TimeSpan mediaTime) => Skipped - SkippedSince(mediaTime);

    private TimeSpan SkippedSince(TimeSpan mediaTime)
    {
        var since = TimeSpan.Zero;
        for (var i = _skips.Count - 1; i >= 0 && _skips[i].At >= mediaTime; i--)
        {
            since += _skips[i].Length;
        }

        return since;
    }
}
