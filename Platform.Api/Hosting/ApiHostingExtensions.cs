using Orleans.Configuration;

namespace Platform.Api.Hosting;

/// <summary>Where the Api finds the cluster. Bound from the "Platform" section (shared with the silo).</summary>
public sealed class ApiClusterOptions
{
    public const string Section = "Platform";
    public string Postgres { get; set; } = "";
    public string ClusterId { get; set; } = "platform";
    public string ServiceId { get; set; } = "platform";
}

public static class ApiHostingExtensions
{
    public static WebApplicationBuilder AddPlatformApi(this WebApplicationBuilder builder)
    {
        var cluster = builder.Configuration.GetSection(ApiClusterOptions.Section).Get<ApiClusterOptions>() ?? new ApiClusterOptions();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = "Npgsql";
                o.ConnectionString = cluster.Postgres;
            });
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddHealthChecks();
        return builder;
    }

    public static WebApplication MapPlatformApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapHealthChecks("/healthz");
        return app;
    }
}
