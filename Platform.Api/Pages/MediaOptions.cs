namespace Platform.Api.Pages;

/// <summary>
/// Where the Api relays the conversation page's media socket (the embedded transport), section <c>Media</c>.
/// </summary>
public sealed class MediaOptions
{
    public const string Section = "Media";

    /// <summary>The shared secret sent to render workers in the <c>x-platform-media-key</c> header (null: none sent).</summary>
    public string? Key { get; set; }

    /// <summary>Render worker id (as registered with the pool) → its media base URI, e.g. <c>ws://10.0.0.5:7070</c>.</summary>
    public Dictionary<string, string> Workers { get; set; } = [];

    /// <summary>The base URI used when the pool names no worker for a conversation, or one missing from
    /// <see cref="Workers"/> (one machine: the single local worker). Null: such a page waits for its replica.</summary>
    public string? DefaultWorker { get; set; }

    /// <summary>How long the relay waits for the worker's socket to open (default 5 s).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The header that carries <see cref="Key"/> to the worker.</summary>
    public const string KeyHeader = "x-platform-media-key";
}
