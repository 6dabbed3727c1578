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

/// <summary>Asks the render pool which worker runs the conversation and maps that worker to its base URI through
/// <see cref="MediaOptions.Workers"/> (falling back to <see cref="MediaOptions.DefaultWorker"/>).</summary>
internal sealed class ConfiguredMediaEndpoints(IGrainFactory grains, IOptionsMonitor<MediaOptions> options) : IMediaEndpointResolver
{
    public async ValueTask<Uri?> ResolveAsync(ConversationId conversation, CancellationToken cancellationToken)
    {
        var o = options.CurrentValue;
        var worker = await grains.GetGrain<IRenderPoolGrain>(RenderPool.Key).WorkerOfAsync(conversation);
        var baseUri = worker is not null && o.Workers.TryGetValue(worker, out var mapped) ? mapped : o.DefaultWorker;
        if (string.IsNullOrWhiteSpace(baseUri))
        {
            return null;
        }
        return new Uri($"{baseUri.TrimEnd('/')}/sessions/{Uri.EscapeDataString(conversation.Tenant.Value)}/{Uri.EscapeDataString(conversation.Local)}");
    }
}
