using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Platform.Silo.Infrastructure;
using Platform.Testing;

namespace Platform.Silo.Tests;

public sealed class MigratorTests
{
    private static readonly Migration[] Two =
    [
        new(1, "first", "CREATE TABLE first_table (id int PRIMARY KEY)"),
        new(2, "second", "CREATE TABLE second_table (id int PRIMARY KEY)"),
    ];

    private static Migrator NewMigrator(NpgsqlDataSource db) => new(db, NullLogger<Migrator>.Instance);

    [Fact]
    public async Task Applies_each_migration_once_even_when_started_concurrently()
    {
        await using var database = await PostgresDatabase.CreateAsync("mig");
        await using var db = database.CreateDataSource();
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => NewMigrator(db).MigrateAsync(Two, CancellationToken.None)));
        Assert.Equal([1, 2], runs.SelectMany(r => r).Order());
        Assert.Empty(await NewMigrator(db).MigrateAsync(Two, CancellationToken.None));
        await using var cmd = db.CreateCommand("SELECT count(*) FROM schema_migrations");
        Assert.Equal(2L, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_changed_applied_migration_is_refused_by_name()
    {
        await using var database = await PostgresDatabase.CreateAsync("mig");
        await using var db = database.CreateDataSource();
        await NewMigrator(db).MigrateAsync(Two, CancellationToken.None);
        Migration[] changed = [Two[0] with { Sql = "CREATE TABLE other (id int)" }, Two[1]];
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => NewMigrator(db).MigrateAsync(changed, CancellationToken.None));
        Assert.Contains("0001_first", e.Message);
    }

    [Fact]
    public async Task A_failing_migration_leaves_nothing_half_applied()
    {
        await using var database = await PostgresDatabase.CreateAsync("mig");
        await using var db = database.CreateDataSource();
        Migration[] broken = [Two[0], new(2, "broken", "CREATE TABLE half (id int); SELECT * FROM no_such_table")];
        await Assert.ThrowsAsync<PostgresException>(() => NewMigrator(db).MigrateAsync(broken, CancellationToken.None));
        await using var cmd = db.CreateCommand("SELECT to_regclass('half') IS NULL AND to_regclass('first_table') IS NOT NULL");
        Assert.Equal(true, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Schema_check_names_the_missing_query_rows()
    {
        await using var database = await PostgresDatabase.CreateAsync("mig");
        await using var db = database.CreateDataSource();
        var none = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresSchema.VerifyAsync(db, CancellationToken.None));
        Assert.Contains("OrleansQuery", none.Message);
        await using (var cmd = db.CreateCommand("CREATE TABLE orleansquery (querykey varchar(64) PRIMARY KEY, querytext text NOT NULL); INSERT INTO orleansquery VALUES ('ReadFromStorageKey', 'select 1')"))
        {
            await cmd.ExecuteNonQueryAsync();
        }
        var some = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresSchema.VerifyAsync(db, CancellationToken.None));
        Assert.Contains("WriteToStorageKey", some.Message);
        Assert.DoesNotContain("ReadFromStorageKey", some.Message);
    }
}
