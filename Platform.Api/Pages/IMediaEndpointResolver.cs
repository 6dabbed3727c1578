using Microsoft.Extensions.Options;
using Platform.Contracts;

namespace Platform.Api.Pages;

/// <summary>Finds the render worker's media socket for a conversation (the embedded transport's relay target).</summary>
public interface IMediaEndpointResolver
{
    /// <summary>The worker's WebSocket URI for <paramref name="conversation"/>
    /// (<c>{base}/sessions/{tenant}/{conversation}</c>), or null while no worker runs it.</summary>
    ValueTask<Uri?> ResolveAsync(ConversationId conversation, CancellationToken cancellationToken);
}

/// <summary>Asks the render pool for the media endpoint the conversation's worker registered. An operator can override
/// it per worker with <see cref="MediaOptions.Workers"/> (a worker behind NAT), and <see cref="MediaOptions.DefaultWorker"/>
/// serves a worker that registered none.</summary>
internal sealed class ConfiguredMediaEndpoints(IGrainFactory grains, IOptionsMonitor<MediaOptions> options) : IMediaEndpointResolver
{
    public async ValueTask<Uri?> ResolveAsync(ConversationId conversation, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var pool = grains.GetGrain<IRenderPoolGrain>(RenderPool.Key);
        var worker = await pool.WorkerOfAsync(conversation);
        var baseUri = worker is null ? null
            : o.Workers.TryGetValue(worker, out var mapped) ? mapped
            : await pool.MediaUrlOfAsync(conversation) ?? o.DefaultWorker;
        if (string.IsNullOrWhiteSpace(baseUri))
        {
            return null;
        }
        return new Uri($"{baseUri.TrimEnd('/')}/sessions/{Uri.EscapeDataString(conversation.Tenant.Value)}/{Uri.EscapeDataString(conversation.Local)}");
    }
}
