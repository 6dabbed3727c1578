using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace Platform.Hosting;

/// <summary>Where a client process (Api, render worker, portal) finds the cluster. Bound from the "Platform" section,
/// the same one the silo reads.</summary>
public sealed class ClusterClientOptions
{
    public const string Section = "Platform";

    /// <summary>Npgsql connection string of the database holding the cluster's membership table.</summary>
    [Required]
    public string Postgres { get; set; } = "";

    [Required]
    public string ClusterId { get; set; } = "platform";

    [Required]
    public string ServiceId { get; set; } = "platform";
}

public static class ClusterClientHosting
{
    /// <summary>
    /// Joins the cluster as an Orleans client: the gateways are found in the AdoNet membership table on PostgreSQL, so a
    /// client needs no silo addresses and follows silos as they come and go.
    /// </summary>
    public static IHostApplicationBuilder AddPlatformClusterClient(this IHostApplicationBuilder builder)
    {
        var cluster = builder.Configuration.GetSection(ClusterClientOptions.Section).Get<ClusterClientOptions>() ?? new ClusterClientOptions();
        builder.Services.AddOptions<ClusterClientOptions>().BindConfiguration(ClusterClientOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
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
        return builder;
    }
}
