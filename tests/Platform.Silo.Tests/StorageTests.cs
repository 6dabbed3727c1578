using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using Platform.Silo.Hosting;
using Platform.Silo.Infrastructure;
using Platform.Silo.Tests.Grains;
using Platform.Testing;

namespace Platform.Silo.Tests;

/// <summary>Grain storage through the AdoNet provider on our schema (ReadFromStorageKey, WriteToStorageKey,
/// ClearStorageKey, DeleteStorageKey).</summary>
public sealed class StorageTests
{
    private const string DeletingStorage = "delete-on-clear";

    private static void AddDeletingStorage(ISiloBuilder silo) =>
        silo.AddAdoNetGrainStorage(DeletingStorage, (OptionsBuilder<AdoNetGrainStorageOptions> ob) =>
            ob.Configure<IOptions<PlatformOptions>>((o, platform) =>
            {
                o.Invariant = PostgresSchema.Invariant;
                o.ConnectionString = platform.Value.Postgres;
                o.DeleteStateOnClear = true;
            }));

    [Fact]
    public async Task Grain_state_round_trips_through_postgres_as_json()
    {
        await using var cluster = await PlatformCluster.StartAsync();
        var grain = cluster.Client.GetGrain<ICounterGrain>("t1/c1");
        Assert.Equal(1, await grain.IncrementAsync());
        Assert.Equal(2, await grain.IncrementAsync());
        await grain.DeactivateAsync();
        await PlatformCluster.WaitUntilAsync(async () => (await grain.SnapshotAsync()).ETag == "2", TimeSpan.FromSeconds(10), "the reactivated grain reads its state back");
        var snapshot = await grain.SnapshotAsync();
        Assert.Equal(2, snapshot.Value);
        Assert.True(snapshot.RecordExists);

        await using var db = cluster.Database.CreateDataSource();
        await using var cmd = db.CreateCommand("SELECT grain_type, grain_id_ext, convert_from(payload, 'UTF8'), version, service_id FROM orleans_grain_state");
        await using var reader = await cmd.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("counter", reader.GetString(0)); // the state name, not the grain class
        Assert.Equal("t1/c1", reader.GetString(1));
        Assert.Equal("""{"Value":2}""", reader.GetString(2)); // System.Text.Json, no type names
        Assert.Equal(2, reader.GetInt32(3));
        Assert.Equal(cluster.Options.ServiceId, reader.GetString(4));
        Assert.False(await reader.ReadAsync());
    }

    [Fact]
    public async Task Provider_refuses_stale_writes_and_clears_with_InconsistentStateException()
    {
        await using var cluster = await PlatformCluster.StartAsync();
        var storage = cluster.SiloServices().GetRequiredKeyedService<IGrainStorage>(PostgresSchema.StorageName);
        var id = GrainId.Create("counter", "t1/stale");

        var first = new GrainState<CounterState>(new CounterState { Value = 1 });
        await storage.WriteStateAsync("counter", id, first);
        Assert.Equal("1", first.ETag);

        // A second writer that never read: its insert meets the existing row.
        var blind = new GrainState<CounterState>(new CounterState { Value = 9 });
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", id, blind));

        var stale = new GrainState<CounterState>(new CounterState { Value = 5 }, first.ETag);
        first.State!.Value = 2;
        await storage.WriteStateAsync("counter", id, first);
        Assert.Equal("2", first.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", id, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("counter", id, stale));

        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", id, read);
        Assert.Equal((2, "2", true), (read.State!.Value, read.ETag, read.RecordExists));

        // The platform provider deletes on clear (a deleted persona leaves no row): the grain starts afresh.
        await storage.ClearStateAsync("counter", id, read);
        Assert.Equal((null, false), (read.ETag, read.RecordExists));
        var cleared = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", id, cleared);
        Assert.Equal((0, null, false), (cleared.State!.Value, cleared.ETag, cleared.RecordExists));
        cleared.State!.Value = 7;
        await storage.WriteStateAsync("counter", id, cleared);
        Assert.Equal("1", cleared.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("counter", id, new GrainState<CounterState>(new CounterState())));

        // Nothing read for a grain that never wrote.
        var none = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", GrainId.Create("counter", "t1/none"), none);
        Assert.Equal((null, false, 0), (none.ETag, none.RecordExists, none.State!.Value));
    }

    [Fact]
    public async Task A_grain_whose_state_changed_underneath_gets_InconsistentStateException_and_recovers()
    {
        await using var cluster = await PlatformCluster.StartAsync();
        var grain = cluster.Client.GetGrain<ICounterGrain>("t1/raced");
        Assert.Equal(1, await grain.IncrementAsync());

        // Another writer (a second activation elsewhere, say) moves the row on.
        await using var db = cluster.Database.CreateDataSource();
        await using (var cmd = db.CreateCommand("UPDATE orleans_grain_state SET version = version + 1, payload = convert_to('{\"Value\":10}', 'UTF8')"))
        {
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
        }

        await Assert.ThrowsAsync<InconsistentStateException>(grain.IncrementAsync);
        // Orleans drops the activation that held stale state; the next one reads the current row.
        await PlatformCluster.WaitUntilAsync(async () => (await grain.SnapshotAsync()).ETag == "2", TimeSpan.FromSeconds(10), "a fresh activation reads the newer row");
        Assert.Equal(11, await grain.IncrementAsync());
    }

    [Fact]
    public async Task Integer_guid_and_string_keys_with_extensions_are_distinct_rows()
    {
        await using var cluster = await PlatformCluster.StartAsync();
        var storage = cluster.SiloServices().GetRequiredKeyedService<IGrainStorage>(PostgresSchema.StorageName);
        var type = GrainType.Create("counter");
        var guid = Guid.NewGuid();
        GrainId[] ids =
        [
            GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(42)),
            GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(42, "a")),
            GrainId.Create(type, GrainIdKeyExtensions.CreateIntegerKey(42, "b")),
            GrainId.Create(type, GrainIdKeyExtensions.CreateGuidKey(guid)),
            GrainId.Create(type, GrainIdKeyExtensions.CreateGuidKey(guid, "a")),
            GrainId.Create(type, "42"),
        ];
        for (var i = 0; i < ids.Length; i++)
        {
            await storage.WriteStateAsync("counter", ids[i], new GrainState<CounterState>(new CounterState { Value = i }));
            // The same grain under another state name is another row.
            await storage.WriteStateAsync("other", ids[i], new GrainState<CounterState>(new CounterState { Value = 100 + i }));
        }
        for (var i = 0; i < ids.Length; i++)
        {
            var state = new GrainState<CounterState>();
            await storage.ReadStateAsync("counter", ids[i], state);
            Assert.Equal((i, "1"), (state.State!.Value, state.ETag));
            await storage.ReadStateAsync("other", ids[i], state);
            Assert.Equal(100 + i, state.State!.Value);
        }
    }

    [Fact]
    public async Task Delete_on_clear_removes_the_row_and_checks_the_version()
    {
        await using var cluster = await PlatformCluster.StartAsync(configure: AddDeletingStorage);
        var storage = cluster.SiloServices().GetRequiredKeyedService<IGrainStorage>(DeletingStorage);
        var id = GrainId.Create("counter", "t1/deleted");
        var state = new GrainState<CounterState>(new CounterState { Value = 3 });
        await storage.WriteStateAsync("counter", id, state);
        var stale = new GrainState<CounterState>(new CounterState(), state.ETag) { RecordExists = true };
        await storage.WriteStateAsync("counter", id, state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync("counter", id, stale));
        await storage.ClearStateAsync("counter", id, state);
        Assert.Equal((null, false), (state.ETag, state.RecordExists));

        await using var db = cluster.Database.CreateDataSource();
        await using (var cmd = db.CreateCommand("SELECT count(*) FROM orleans_grain_state"))
        {
            Assert.Equal(0L, await cmd.ExecuteScalarAsync());
        }
        // Written again from scratch.
        await storage.WriteStateAsync("counter", id, new GrainState<CounterState>(new CounterState { Value = 4 }));
        var read = new GrainState<CounterState>();
        await storage.ReadStateAsync("counter", id, read);
        Assert.Equal((4, "1"), (read.State!.Value, read.ETag));
    }
}
