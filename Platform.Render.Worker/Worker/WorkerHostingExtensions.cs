using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Platform.Hosting;
using Platform.Render.Worker.Media;

namespace Platform.Render.Worker;

public static class WorkerHostingExtensions
{
    /// <summary>The render worker: an Orleans client of the cluster (AdoNet membership on PostgreSQL) that registers with
    /// the render pool, heartbeats, runs its assigned sessions (the engine pipeline) and serves their media sockets.</summary>
    public static WebApplicationBuilder AddRenderWorker(this WebApplicationBuilder builder)
    {
        builder.AddPlatformClusterClient();
        builder.AddRenderWorkerServices();
        builder.Services.AddSingleton(sp => new WorkerEngine(sp.GetRequiredService<IOptions<RenderOptions>>().Value.AllowPrivateEndpoints));
        builder.Services.AddSingleton(VideoEncoders.Vp8);
        builder.Services.AddSingleton<MediaSessionRunner>();
        builder.Services.AddSingleton<ISessionRunner>(sp => sp.GetRequiredService<MediaSessionRunner>());
        builder.Services.AddSingleton<IWorkerMediaAddress, KestrelMediaAddress>();
        builder.WebHost.UseUrls(builder.Configuration.GetSection(RenderOptions.Section)[nameof(RenderOptions.MediaUrls)] ?? new RenderOptions().MediaUrls);
        return builder;
    }

    /// <summary>The worker's services without the cluster client (tests provide theirs). Registered after the Orleans
    /// client so that on shutdown the worker drains while the client is still connected.</summary>
    public static IHostApplicationBuilder AddRenderWorkerServices(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<RenderOptions>().BindConfiguration(RenderOptions.Section).ValidateDataAnnotations().ValidateOnStart()
            .PostConfigure(o => o.WorkerId = string.IsNullOrWhiteSpace(o.WorkerId) ? $"{Environment.MachineName}-{Environment.ProcessId}" : o.WorkerId);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<ISessionRunner, PresenceSessionRunner>();
        builder.Services.AddSingleton(sp => new RenderWorker(sp.GetRequiredService<IGrainFactory>(), sp.GetRequiredService<ISessionRunner>(),
            sp.GetRequiredService<IOptions<RenderOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<RenderWorker>>(),
            sp.GetService<IWorkerMediaAddress>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RenderWorker>());
        // Shutdown waits for the drain (plus the last calls to the pool).
        var drain = builder.Configuration.GetSection(RenderOptions.Section).GetValue<TimeSpan?>(nameof(RenderOptions.DrainTimeout)) ?? new RenderOptions().DrainTimeout;
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = drain + TimeSpan.FromSeconds(15));
        return builder;
    }
}
