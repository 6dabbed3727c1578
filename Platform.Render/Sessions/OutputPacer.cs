namespace Platform.Render.Sessions;

/// <summary>
/// One stream's send clock: says when each media item (an audio frame once its last sample exists, an encoded video
/// frame at its timestamp) is due on the wall clock, a fixed <see cref="Lead"/> after the earliest an item has come
/// relative to its media time. The session makes frames when its input audio arrives, so unpaced a 30 fps stream leaves
/// in 10–20 ms steps plus whatever the other sessions on the core cost; paced, it leaves every 33.3 ms as long as a
/// frame is never later than the lead. Audio and video share the clock, so lip sync is unchanged; the price is up to
/// <see cref="Lead"/> of added latency. An item more than <see cref="MaxLate"/> behind (the input stalled, or the machine
/// did) restarts the clock with the lead again, rather than sending everything after it in a burst.
/// <see cref="PacedSender"/> does the sending. Used by one producer at a time (not thread-safe).
/// </summary>
public sealed class OutputPacer(TimeProvider clock, TimeSpan lead, TimeSpan? maxLate = null)
{
    /// <summary>The lead live transports use: above the p99 lateness of a frame with four 720p sessions on two cores.</summary>
    public static readonly TimeSpan DefaultLead = TimeSpan.FromMilliseconds(40);

    private TimeSpan? _offset; // wall time − media time at which an item is due

    public TimeSpan Lead { get; } = lead < TimeSpan.Zero ? TimeSpan.Zero : lead;

    public TimeSpan MaxLate { get; } = maxLate ?? TimeSpan.FromMilliseconds(250);

    public TimeProvider Clock => clock;

    /// <summary>Times the clock was restarted because an item came too late.</summary>
    public int Restarts { get; private set; }

    /// <summary>When (on <see cref="Clock"/>'s timestamp scale) the item stamped <paramref name="mediaAt"/> is due.</summary>
    public long Due(TimeSpan mediaAt)
    {
        var now = clock.GetTimestamp();
        var wall = TimeSpan.FromSeconds((double)now / clock.TimestampFrequency);
        // An item earlier than any before (relative to its media time) moves the clock forward (the session caught up,
        // e.g. after its start); a later one is what the lead absorbs.
        var earliest = wall - mediaAt + Lead;
        if (_offset is not { } offset || earliest < offset)
        {
            _offset = offset = earliest;
        }

        var due = mediaAt + offset;
        if (wall - due > MaxLate)
        {
            _offset = earliest;
            due = wall + Lead;
            Restarts++;
        }

        return now + (long)((due - wall).TotalSeconds * clock.TimestampFrequency);
    }
}
