using System.ComponentModel.DataAnnotations;

namespace Platform.Silo.Render;

/// <summary>How the silo's render pool treats workers. Bound from the "Render" section.</summary>
public sealed class RenderPoolOptions
{
    public const string Section = "Render";

    /// <summary>
    /// True (default): a conversation that finds no render worker with a free slot is refused at creation (503 with
    /// Retry-After). False: it is created unassigned and takes the next free slot, for control-plane-only deployments
    /// and tests without workers.
    /// </summary>
    public bool RequireWorker { get; set; } = true;

    /// <summary>A worker whose last heartbeat is this old is declared lost and its conversations move to other workers.
    /// Default 1.5 s (three missed heartbeats at the workers' default 500 ms period).</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:01:00")]
    public TimeSpan WorkerLostAfter { get; set; } = TimeSpan.FromMilliseconds(1500);

    /// <summary>The Retry-After (seconds) given with a refusal for lack of capacity.</summary>
    [Range(1, 3600)]
    public int RetryAfterSeconds { get; set; } = 5;
}
