using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Platform.Render.Worker;

/// <summary>Where this worker's media socket can be reached, once known.</summary>
public interface IWorkerMediaAddress
{
    /// <summary>The <c>ws://</c> base URL the Api relays pages to.</summary>
    Task<string> GetAsync(CancellationToken cancellationToken);
}

/// <summary>The configured public URL, or the first address Kestrel listens on (read after the server started).</summary>
public sealed class KestrelMediaAddress(IServer server, IHostApplicationLifetime lifetime, IOptions<RenderOptions> options) : IWorkerMediaAddress
{
    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrWhiteSpace(options.Value.MediaPublicUrl))
        {
            return options.Value.MediaPublicUrl!.TrimEnd('/');
        }
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        {
            await started.Task.WaitAsync(cancellationToken);
        }
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("The media server listens on no address; set Render:MediaUrls.");
        return ToWebSocket(address);
    }

    /// <summary><c>http://127.0.0.1:5123</c> → <c>ws://127.0.0.1:5123</c> (a wildcard host becomes loopback).</summary>
    public static string ToWebSocket(string address)
    {
        var uri = new UriBuilder(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal));
        uri.Scheme = uri.Scheme == "https" ? "wss" : "ws";
        if (uri.Host is "0.0.0.0" or "[::]")
        {
            uri.Host = "127.0.0.1";
        }
        return uri.Uri.ToString().TrimEnd('/');
    }
}
