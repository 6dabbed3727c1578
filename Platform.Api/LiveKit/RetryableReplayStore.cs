using System.Collections.Concurrent;
using Platform.LiveKit.Webhooks;

namespace Platform.Api.LiveKit;

/// <summary>
/// The replay store of the webhook endpoint: an <see cref="InMemoryWebhookReplayStore"/> that can forget an event
/// whose handling failed (the cluster was unreachable), so LiveKit's retry of it is applied instead of being
/// acknowledged as a replay. Per process: with several Api instances behind a balancer, use a shared store.
/// </summary>
public sealed class RetryableReplayStore(TimeProvider time) : IWebhookReplayStore
{
    private readonly InMemoryWebhookReplayStore _inner = new(time);
    private readonly ConcurrentDictionary<string, byte> _forgotten = new(StringComparer.Ordinal);

    public async ValueTask<bool> TryRememberAsync(string eventId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        await _inner.TryRememberAsync(eventId, expiresAt, cancellationToken) || _forgotten.TryRemove(eventId, out _);

    /// <summary>Lets the next delivery of <paramref name="eventId"/> through once.</summary>
    public void Forget(string eventId) => _forgotten[eventId] = 0;
}
