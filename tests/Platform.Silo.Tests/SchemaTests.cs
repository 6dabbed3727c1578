using Microsoft.Extensions.Logging.Abstractions;
using Platform.Silo.Infrastructure;
using Platform.Silo.Tests.Grains;
using Platform.Testing;

namespace Platform.Silo.Tests;

/// <summary>The embedded migrations and the schema check, on their own and as silos start.</summary>
public sealed class SchemaTests
{
    private static async Task<long> CountAsync(PostgresDatabase database, string sql)
    {
        await using var db = database.CreateDataSource();
        await using var cmd = db.CreateCommand(sql);
        return (long)(await cmd.ExecuteScalarAsync())!;
    }

    private static string Messages(Exception e) =>
        string.Join(" | ", Flatten(e).Select(x => x.Message));

    private static IEnumerable<Exception> Flatten(Exception e)
    {
        yield return e;
        var inner = e is AggregateException a ? a.InnerExceptions : e.InnerException is { } i ? [i] : [];
        foreach (var x in inner.SelectMany(Flatten))
        {
            yield return x;
        }
    }

    [Fact]
    public async Task Embedded_migrations_build_the_schema_on_an_empty_database_once()
    {
        await using var database = await PostgresDatabase.CreateAsync("mig");
        await using var db = database.CreateDataSource();
        var migrations = Migrator.Embedded();
        Assert.Contains(migrations, m => m is { Version: 1, Name: "orleans" });

        var applied = await new Migrator(db, NullLogger<Migrator>.Instance).MigrateAsync(migrations, CancellationToken.None);
        Assert.Equal(migrations.Select(m => m.Version), applied);
        await PostgresSchema.VerifyAsync(db, CancellationToken.None);
        Assert.Equal(PostgresSchema.RequiredQueryKeys.Count, await CountAsync(database, "SELECT count(*) FROM orleansquery"));

        Assert.Empty(await new Migrator(db, NullLogger<Migrator>.Instance).MigrateAsync(migrations, CancellationToken.None));
        Assert.Equal(migrations.Count, await CountAsync(database, "SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task Two_silos_starting_at_once_on_a_fresh_database_migrate_it_once_and_a_restart_finds_it_current()
    {
        var database = await PostgresDatabase.CreateAsync("mig");
        await using var cluster = await PlatformCluster.StartOnDatabaseAsync(database, silos: 2, silosMigrate: true);
        Assert.Equal(Migrator.Embedded().Count, await CountAsync(database, "SELECT count(*) FROM schema_migrations"));
        Assert.Equal(2, await CountAsync(database, "SELECT count(*) FROM orleans_membership WHERE status = 3"));
        var grain = cluster.Client.GetGrain<ICounterGrain>("t1/m");
        Assert.Equal(1, await grain.IncrementAsync());

        // A second start of a silo host (migrations already applied) joins as a new generation.
        var restarted = await cluster.RestartSiloAsync(cluster.Silos[1]);
        Assert.Equal(Migrator.Embedded().Count, await CountAsync(database, "SELECT count(*) FROM schema_migrations"));
        Assert.Equal((int)SiloStatus.Active, await ClusterTests.StatusOfAsync(cluster, restarted.SiloAddress));
        Assert.Equal(2, await CountAsync(database, "SELECT count(*) FROM orleans_membership WHERE status = 3"));
        Assert.Equal(1, await CountAsync(database, "SELECT count(*) FROM orleans_membership WHERE status = 6"));
        Assert.Equal(2, await grain.IncrementAsync());
    }

    [Fact]
    public async Task A_silo_does_not_start_when_query_rows_are_missing_and_says_which()
    {
        var database = await PostgresDatabase.CreateAsync("mig");
        await using (var db = database.CreateDataSource())
        {
            await new Migrator(db, NullLogger<Migrator>.Instance).MigrateAsync(Migrator.Embedded(), CancellationToken.None);
            await using var cmd = db.CreateCommand("DELETE FROM orleansquery WHERE querykey IN ('ReadRangeRows2Key', 'ClearStorageKey')");
            await cmd.ExecuteNonQueryAsync();
        }
        var e = await Assert.ThrowsAnyAsync<Exception>(() => PlatformCluster.StartOnDatabaseAsync(database));
        var messages = Messages(e);
        Assert.Contains("ReadRangeRows2Key", messages);
        Assert.Contains("ClearStorageKey", messages);
        Assert.Contains("lacks the query rows", messages); // our schema check, before any provider starts
        Assert.DoesNotContain("Sequence contains no elements", messages);
    }

    [Fact]
    public async Task A_silo_does_not_start_on_an_unmigrated_database()
    {
        var database = await PostgresDatabase.CreateAsync("mig");
        var e = await Assert.ThrowsAnyAsync<Exception>(() => PlatformCluster.StartOnDatabaseAsync(database));
        Assert.Contains("OrleansQuery", Messages(e));
    }
}
