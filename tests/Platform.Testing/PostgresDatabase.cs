using Npgsql;

namespace Platform.Testing;

/// <summary>
/// A fresh, empty database on the test PostgreSQL started by <c>./test.sh</c> (connection string in
/// <c>PLATFORM_TEST_POSTGRES</c>); dropped on dispose. Without that variable the test fails with a message saying how
/// to run it: a missing database is never a silent skip.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    public const string Variable = "PLATFORM_TEST_POSTGRES";

    private readonly string _server;

    private PostgresDatabase(string server, string name, string connectionString)
    {
        _server = server;
        Name = name;
        ConnectionString = connectionString;
    }

    public string Name { get; }
    public string ConnectionString { get; }

    /// <summary>The server's connection string (database <c>postgres</c>).</summary>
    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } cs
            ? cs
            : throw new InvalidOperationException($"{Variable} is not set: run the tests with ./test.sh, which starts PostgreSQL, or point {Variable} at a server.");

    public static async Task<PostgresDatabase> CreateAsync(string prefix = "t")
    {
        var server = ServerConnectionString;
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 1 + 20, 60)].ToLowerInvariant();
        await using (var conn = new NpgsqlConnection(server))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name };
        return new PostgresDatabase(server, name, builder.ConnectionString);
    }

    public NpgsqlDataSource CreateDataSource() => NpgsqlDataSource.Create(ConnectionString);

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var conn = new NpgsqlConnection(_server);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}
