namespace Platform.Render.Sessions;

/// <summary>
/// The send clock of a session's streams: says when each media item (an audio frame once its last sample exists, an
/// encoded video frame at its timestamp) is due on the wall clock, a lead after the earliest an item has come relative
/// to its media time. The session makes frames when its input audio arrives, so unpaced a 30 fps stream leaves in
/// 10–20 ms steps plus whatever the other sessions on the core cost; paced, it leaves every 33.3 ms as long as a frame
/// is never later than <see cref="Lead"/>. Audio is cheap to make and the page queues it for its jitter anyway, so it
/// leaves with the shorter <see cref="AudioLead"/>: what the page plays is that much earlier, and the picture still
/// arrives before the page's queue has played up to it (the picture follows the audio at the page). Both streams
/// share the clock, so one stall moves both alike. An item more than <see cref="MaxLate"/> behind (the input stalled,
/// or the machine did) restarts the clock, rather than sending everything after it in a burst.
/// <see cref="PacedSender"/> does the sending. Used by one producer at a time (not thread-safe).
/// </summary>
public sealed class OutputPacer(TimeProvider clock, TimeSpan lead, TimeSpan? maxLate = null, TimeSpan? audioLead = null)
{
    /// <summary>The lead live transports use for video: above the p99 lateness of a frame with four 720p sessions on
    /// two cores.</summary>
    public static readonly TimeSpan DefaultLead = TimeSpan.FromMilliseconds(40);

    /// <summary>The lead for audio: the tick loop's own jitter; the page's playback queue absorbs the rest.</summary>
    public static readonly TimeSpan DefaultAudioLead = TimeSpan.FromMilliseconds(10);

    private TimeSpan? _offset; // wall time − media time of the earliest item

    public TimeSpan Lead { get; } = lead < TimeSpan.Zero ? TimeSpan.Zero : lead;

    /// <summary>The lead of audio items (<see cref="Due(TimeSpan, TimeSpan)"/>): never more than <see cref="Lead"/>.</summary>
    public TimeSpan AudioLead { get; } = TimeSpan.FromTicks(Math.Clamp((audioLead ?? DefaultAudioLead).Ticks, 0, Math.Max(0, lead.Ticks)));

    public TimeSpan MaxLate { get; } = maxLate ?? TimeSpan.FromMilliseconds(250);

    public TimeProvider Clock => clock;

    /// <summary>Times the clock was restarted because an item came too late.</summary>
    public int Restarts { get; private set; }

    /// <summary>When (on <see cref="Clock"/>'s timestamp scale) the item stamped <paramref name="mediaAt"/> is due,
    /// with <see cref="Lead"/>.</summary>
    public long Due(TimeSpan mediaAt) => Due(mediaAt, Lead);

    /// <summary>When the item stamped <paramref name="mediaAt"/> is due, <paramref name="itemLead"/> after the
    /// earliest.</summary>
    public long Due(TimeSpan mediaAt, TimeSpan itemLead)
    {
        var now = clock.GetTimestamp();
        var wall = TimeSpan.FromSeconds((double)now / clock.TimestampFrequency);
        // An item earlier than any before (relative to its media time) moves the clock forward (the session caught up,
        // e.g. after its start); a later one is what the lead absorbs.
        var earliest = wall - mediaAt;
        if (_offset is not { } offset || earliest < offset)
        {
            _offset = offset = earliest;
        }

        var due = mediaAt + offset + itemLead;
        if (wall - due > MaxLate)
        {
            _offset = earliest;
            due = wall + itemLead;
            Restarts++;
        }

        return now + (long)((due - wall).TotalSeconds * clock.TimestampFrequency);
    }
}
