using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Silo.Hosting;

namespace Platform.Silo.Infrastructure;

/// <summary>Brings the database to the current schema and checks it, before the silo starts.</summary>
internal sealed class MigrationHostedService(IOptions<PlatformOptions> options, ILoggerFactory loggers) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var db = NpgsqlDataSource.Create(options.Value.Postgres);
        await new Migrator(db, loggers.CreateLogger<Migrator>()).MigrateAsync(Migrator.Embedded(), cancellationToken);
        await PostgresSchema.VerifyAsync(db, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
