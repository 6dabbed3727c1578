using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Hosting;

namespace Platform.Render.Worker;

public static class WorkerHostingExtensions
{
    /// <summary>The render worker: an Orleans client of the cluster (AdoNet membership on PostgreSQL) that registers with
    /// the render pool, heartbeats, runs its assigned sessions and drains on stop.</summary>
    public static IHostApplicationBuilder AddRenderWorker(this IHostApplicationBuilder builder)
    {
        builder.AddPlatformClusterClient();
        builder.AddRenderWorkerServices();
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
        builder.Services.AddSingleton<RenderWorker>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RenderWorker>());
        // Shutdown waits for the drain (plus the last calls to the pool).
        var drain = builder.Configuration.GetSection(RenderOptions.Section).GetValue<TimeSpan?>(nameof(RenderOptions.DrainTimeout)) ?? new RenderOptions().DrainTimeout;
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = drain + TimeSpan.FromSeconds(15));
        return builder;
    }
}
