using Npgsql;
using Orleans.Runtime;

namespace Platform.Silo.Infrastructure;

/// <summary>
/// Runs <see cref="PostgresSchema.VerifyAsync"/> as the silo's first lifecycle step, before any Orleans provider
/// reads its queries, so that a silo started against an unmigrated or damaged database stops with a message naming
/// what is missing rather than the providers' "Sequence contains no elements".
/// </summary>
internal sealed class PostgresSchemaCheck(string connectionString) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaCheck), ServiceLifecycleStage.First, VerifyAsync);

    private async Task VerifyAsync(CancellationToken ct)
    {
        await using var db = NpgsqlDataSource.Create(connectionString);
        await PostgresSchema.VerifyAsync(db, ct);
    }
}
