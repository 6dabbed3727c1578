using System.Net;
using Orleans.Runtime.MembershipService;
using Platform.Testing;

namespace Platform.Silo.Tests;

/// <summary>Membership through AdoNetClusteringTable and AdoNetGatewayListProvider on our schema: every clustering
/// query row, and the table-version rule the membership protocol relies on.</summary>
public sealed class MembershipTableTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static MembershipEntry Entry(int port, SiloStatus status, int proxyPort = 0) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, port, 7),
        SiloName = $"silo-{port}",
        HostName = "host",
        Status = status,
        ProxyPort = proxyPort,
        StartTime = T0,
        IAmAliveTime = T0,
    };

    [Fact]
    public async Task Every_change_needs_the_current_table_version()
    {
        await using var database = await Providers.MigratedDatabaseAsync();
        var table = Providers.Membership(database, "c1");
        await table.InitializeMembershipTableAsync(true, default);
        // A second silo initialising finds the version row already there.
        await Providers.Membership(database, "c1").InitializeMembershipTableAsync(true, default);

        var empty = await table.ReadAllAsync(default);
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var a = Entry(1001, SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(a, empty.Version.Next(), default));
        // Inserting with the version read before that insert is a conflict, as is inserting the same silo twice.
        Assert.False(await table.InsertRowAsync(Entry(1002, SiloStatus.Joining), empty.Version.Next(), default));
        var one = await table.ReadAllAsync(default);
        Assert.Equal(1, one.Version.Version);
        Assert.False(await table.InsertRowAsync(a, one.Version.Next(), default));
        Assert.Single(one.Members);

        a.Status = SiloStatus.Active;
        a.AddOrUpdateSuspector(SiloAddress.New(IPAddress.Loopback, 1002, 7), T0.AddSeconds(3), 2);
        Assert.False(await table.UpdateRowAsync(a, one.Members[0].Item2, empty.Version.Next(), default));
        Assert.True(await table.UpdateRowAsync(a, one.Members[0].Item2, one.Version.Next(), default));
        Assert.False(await table.UpdateRowAsync(a, one.Members[0].Item2, one.Version.Next(), default));

        var row = await table.ReadRowAsync(a.SiloAddress, default);
        Assert.Equal(2, row.Version.Version);
        var (read, _) = Assert.Single(row.Members);
        Assert.Equal((a.SiloAddress, SiloStatus.Active, "silo-1001", "host", T0), (read.SiloAddress, read.Status, read.SiloName, read.HostName, read.StartTime));
        var suspect = Assert.Single(read.SuspectTimes ?? []);
        Assert.Equal((SiloAddress.New(IPAddress.Loopback, 1002, 7), T0.AddSeconds(3)), (suspect.Item1, suspect.Item2));

        // A silo that is not in the table cannot be updated, and the version does not move.
        Assert.False(await table.UpdateRowAsync(Entry(1003, SiloStatus.Active), "", row.Version.Next(), default));
        Assert.Equal(2, (await table.ReadAllAsync(default)).Version.Version);
        // Reading a silo that is not there still yields the table version.
        var missing = await table.ReadRowAsync(SiloAddress.New(IPAddress.Loopback, 1003, 7), default);
        Assert.Empty(missing.Members);
        Assert.Equal(2, missing.Version.Version);
    }

    [Fact]
    public async Task Of_two_concurrent_changes_on_one_version_exactly_one_wins()
    {
        await using var database = await Providers.MigratedDatabaseAsync();
        var tables = Enumerable.Range(0, 8).Select(_ => Providers.Membership(database, "race")).ToList();
        await Task.WhenAll(tables.Select(t => t.InitializeMembershipTableAsync(true, default)));
        var version = (await tables[0].ReadAllAsync(default)).Version;
        var results = await Task.WhenAll(tables.Select((t, i) => t.InsertRowAsync(Entry(2000 + i, SiloStatus.Joining), version.Next(), default)));
        Assert.Single(results, r => r);
        var after = await tables[0].ReadAllAsync(default);
        Assert.Single(after.Members);
        Assert.Equal(version.Version + 1, after.Version.Version);
    }

    [Fact]
    public async Task Heartbeats_gateways_cleanup_and_delete()
    {
        await using var database = await Providers.MigratedDatabaseAsync();
        var table = Providers.Membership(database, "c2");
        var other = Providers.Membership(database, "c3");
        await table.InitializeMembershipTableAsync(true, default);
        await other.InitializeMembershipTableAsync(true, default);

        var active = Entry(3001, SiloStatus.Active, proxyPort: 4001);
        var noGateway = Entry(3002, SiloStatus.Active);
        var joining = Entry(3003, SiloStatus.Joining, proxyPort: 4003);
        var dead = Entry(3004, SiloStatus.Dead, proxyPort: 4004);
        foreach (var e in new[] { active, noGateway, joining, dead })
        {
            Assert.True(await table.InsertRowAsync(e, (await table.ReadAllAsync(default)).Version.Next(), default));
        }
        Assert.True(await other.InsertRowAsync(Entry(3001, SiloStatus.Active, proxyPort: 5001), (await other.ReadAllAsync(default)).Version.Next(), default));

        // IAmAlive is a heartbeat, not a membership change: no version bump.
        var before = (await table.ReadAllAsync(default)).Version.Version;
        active.IAmAliveTime = T0.AddMinutes(5);
        await table.UpdateIAmAliveAsync(active, default);
        var row = await table.ReadRowAsync(active.SiloAddress, default);
        Assert.Equal(T0.AddMinutes(5), row.Members[0].Item1.IAmAliveTime);
        Assert.Equal(before, row.Version.Version);

        var gateways = Providers.Gateways(database, "c2");
        await gateways.InitializeGatewayListProviderAsync(default);
        Assert.Equal([SiloAddress.New(IPAddress.Loopback, 4001, 7).ToGatewayUri()], await gateways.GetGatewaysAsync(default));

        // Only dead silos last seen before the cut-off are forgotten.
        await table.CleanupDefunctSiloEntriesAsync(new DateTimeOffset(T0.AddMinutes(1)), default);
        Assert.Equal([3001, 3002, 3003], (await table.ReadAllAsync(default)).Members.Select(m => m.Item1.SiloAddress.Endpoint.Port).Order());

        await table.DeleteMembershipTableEntriesAsync("c2", default);
        await table.InitializeMembershipTableAsync(true, default);
        var fresh = await table.ReadAllAsync(default);
        Assert.Empty(fresh.Members);
        Assert.Equal(0, fresh.Version.Version);
        Assert.Single((await other.ReadAllAsync(default)).Members);
    }
}
