using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Messaging;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;
using Platform.Silo.Infrastructure;
using Platform.Testing;

namespace Platform.Silo.Tests;

/// <summary>The Orleans AdoNet providers created directly on a migrated test database, without a silo: every call
/// runs one of our query rows through the provider's own parameter and result handling.</summary>
internal static class Providers
{
    public static async Task<PostgresDatabase> MigratedDatabaseAsync()
    {
        var database = await PostgresDatabase.CreateAsync("prov");
        await using var db = database.CreateDataSource();
        await new Migrator(db, NullLogger<Migrator>.Instance).MigrateAsync(Migrator.Embedded(), CancellationToken.None);
        return database;
    }

    public static AdoNetClusteringTable Membership(PostgresDatabase database, string clusterId) =>
        new(new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "svc" }),
            Options.Create(new AdoNetClusteringSiloOptions { Invariant = PostgresSchema.Invariant, ConnectionString = database.ConnectionString }),
            NullLogger<AdoNetClusteringTable>.Instance);

    public static IGatewayListProvider Gateways(PostgresDatabase database, string clusterId) =>
        new AdoNetGatewayListProvider(NullLogger<AdoNetGatewayListProvider>.Instance,
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new AdoNetClusteringClientOptions { Invariant = PostgresSchema.Invariant, ConnectionString = database.ConnectionString }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "svc" }));

    /// <summary>The reminder table is internal to Orleans.Reminders.AdoNet; it is created the way the silo's DI would.</summary>
    public static async Task<IReminderTable> RemindersAsync(PostgresDatabase database, string serviceId)
    {
        var type = typeof(AdoNetReminderTableOptions).Assembly.GetType("Orleans.Runtime.ReminderService.AdoNetReminderTable", throwOnError: true)!;
        var table = (IReminderTable)ActivatorUtilities.CreateInstance(new ServiceCollection().BuildServiceProvider(), type,
            Options.Create(new ClusterOptions { ClusterId = "c", ServiceId = serviceId }),
            Options.Create(new AdoNetReminderTableOptions { Invariant = PostgresSchema.Invariant, ConnectionString = database.ConnectionString }));
        await table.StartAsync(CancellationToken.None);
        return table;
    }
}
