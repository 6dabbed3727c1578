using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Platform.Silo.Infrastructure;

/// <summary>One versioned SQL script: <c>NNNN_name.sql</c>.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

/// <summary>
/// Applies the versioned migrations (embedded from <c>infra/sql</c>) in order, each in its own transaction, under a
/// session advisory lock so that a second start, or several silos starting at once, apply each script exactly once.
/// An applied script whose text changed is refused: migrations are append-only.
/// </summary>
public sealed partial class Migrator(NpgsqlDataSource db, ILogger<Migrator> logger)
{
    // Any constant works; it only has to be the same for every process migrating this database.
    private const long AdvisoryLockKey = 0x706c6174666f726d; // "platform"

    public static IReadOnlyList<Migration> Embedded()
    {
        var asm = typeof(Migrator).Assembly;
        var list = new List<Migration>();
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.EndsWith(".sql", StringComparison.Ordinal)))
        {
            // Resource names look like "Platform.Silo.Migrations.0001_orleans.sql".
            var file = name[(name.LastIndexOf(".Migrations.", StringComparison.Ordinal) + ".Migrations.".Length)..];
            var underscore = file.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(file[..underscore], out var version))
            {
                throw new InvalidOperationException($"Migration resource '{file}' is not named NNNN_name.sql");
            }
            using var stream = asm.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            list.Add(new Migration(version, file[(underscore + 1)..^4], reader.ReadToEnd()));
        }
        var duplicate = list.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new InvalidOperationException($"Two migrations share version {duplicate.Key}");
        }
        return list.OrderBy(m => m.Version).ToList();
    }

    /// <summary>Applies what is missing; returns the versions this call applied.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(IReadOnlyList<Migration> migrations, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await ExecAsync(conn, $"SELECT pg_advisory_lock({AdvisoryLockKey})", ct);
        try
        {
            await ExecAsync(conn, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text NOT NULL,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, ct);
            var applied = new Dictionary<int, string>();
            await using (var cmd = new NpgsqlCommand("SELECT version, checksum FROM schema_migrations", conn))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    applied[reader.GetInt32(0)] = reader.GetString(1);
                }
            }
            var done = new List<int>();
            foreach (var m in migrations)
            {
                if (applied.TryGetValue(m.Version, out var checksum))
                {
                    if (checksum != m.Checksum)
                    {
                        throw new InvalidOperationException($"Migration {m.Version:D4}_{m.Name} was changed after it was applied; add a new migration instead.");
                    }
                    continue;
                }
                await using var tx = await conn.BeginTransactionAsync(ct);
                await using (var cmd = new NpgsqlCommand(m.Sql, conn, tx))
                {
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await using (var cmd = new NpgsqlCommand("INSERT INTO schema_migrations(version, name, checksum) VALUES ($1, $2, $3)", conn, tx))
                {
                    cmd.Parameters.AddWithValue(m.Version);
                    cmd.Parameters.AddWithValue(m.Name);
                    cmd.Parameters.AddWithValue(m.Checksum);
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                await tx.CommitAsync(ct);
                LogApplied(m.Version, m.Name);
                done.Add(m.Version);
            }
            return done;
        }
        finally
        {
            await ExecAsync(conn, $"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
        }
    }

    private static async Task ExecAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Version} {Name}")]
    private partial void LogApplied(int version, string name);
}
