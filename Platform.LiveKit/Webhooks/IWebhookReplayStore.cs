namespace Platform.LiveKit.Webhooks;

/// <summary>Remembers webhook event ids for a while, so a replayed event is recognised.</summary>
public interface IWebhookReplayStore
{
    /// <summary>
    /// Records <paramref name="eventId"/> until <paramref name="expiresAt"/>. Returns <c>false</c> when the id is
    /// already recorded and not expired (a replay); atomic per id.
    /// </summary>
    ValueTask<bool> TryRememberAsync(string eventId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);
}

/// <summary>
/// A bounded in-memory <see cref="IWebhookReplayStore"/> for one process. Expired ids are dropped as time passes;
/// when <see cref="Capacity"/> ids are live the one closest to expiry is dropped (only genuine, verified events
/// are ever recorded, so that takes more real events inside one window than the capacity).
/// </summary>
public sealed class InMemoryWebhookReplayStore(TimeProvider? time = null, int capacity = 100_000) : IWebhookReplayStore
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<string, DateTimeOffset> _ids = new(StringComparer.Ordinal);
    private readonly PriorityQueue<string, DateTimeOffset> _byExpiry = new();
    private readonly Lock _lock = new();

    /// <summary>The most ids held at once.</summary>
    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Ids held now (expired ones included until the next call drops them).</summary>
    public int Count
    {
        get { lock (_lock) return _ids.Count; }
    }

    /// <inheritdoc />
    public ValueTask<bool> TryRememberAsync(string eventId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventId);
        var now = _time.GetUtcNow();
        lock (_lock)
        {
            while (_byExpiry.TryPeek(out var oldest, out var at) && (at <= now || _ids.Count >= Capacity && !_ids.ContainsKey(eventId)))
            {
                _byExpiry.Dequeue();
                if (_ids.TryGetValue(oldest, out var stored) && stored == at) _ids.Remove(oldest);
            }
            if (_ids.TryGetValue(eventId, out var existing) && existing > now) return ValueTask.FromResult(false);
            _ids[eventId] = expiresAt;
            _byExpiry.Enqueue(eventId, expiresAt);
            return ValueTask.FromResult(true);
        }
    }
}
