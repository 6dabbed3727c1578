using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;
using Platform.Silo.Hosting;
using Platform.Silo.Infrastructure;
using Platform.Silo.Render;

namespace Platform.Testing;

/// <summary>
/// An Orleans test cluster on a fresh PostgreSQL database, wired exactly like production: every silo runs
/// <see cref="SiloHostingExtensions.ConfigurePlatformSilo"/>, so membership, grain state and reminders go through the
/// AdoNet providers and our <c>infra/sql</c> schema (never the test-membership default), and silos talk over real TCP
/// on free loopback ports (not the test cluster's in-memory transport), so a separately hosted Orleans client (an Api
/// under test configured with <see cref="Options"/>) finds the gateways in the membership table and connects.
/// <para>
/// Time: grains and reminders run on one shared <see cref="FakeTimeProvider"/> (<see cref="Time"/>): it is the silos'
/// <see cref="TimeProvider"/> singleton, which Orleans also resolves for grain timers (<c>RegisterGrainTimer</c>) and
/// the reminder service. The cluster's own machinery (membership probes, messaging timeouts, directory, activation
/// collection) keeps the system clock, so failure detection works while logical time stands still.
/// </para>
/// <para>
/// Crashes: each silo connects as its own PostgreSQL login role and its Orleans transports go through a
/// <see cref="NetworkPlug"/>, so <see cref="KillSiloAsync"/> cuts a silo off the database and the network at once. It
/// cannot mark itself dead (an in-process stop, even an "ungraceful" one, would write Stopping/Dead itself and keep
/// answering probes while it retries); the survivors must notice and vote it dead, as with a crashed process.
/// </para>
/// <para>
/// Logs: set <c>PLATFORM_TEST_ORLEANS_LOG=Information</c> (or <c>Debug</c>) to see silo and client logs, and run
/// <c>dotnet test</c> with <c>--logger "console;verbosity=detailed"</c>.
/// </para>
/// </summary>
public sealed partial class PlatformCluster : IAsyncDisposable
{
    /// <summary>Where the logical clock starts: fixed, so tests do not depend on the day they run.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly ConcurrentBag<string> _roles = [];
    private readonly HashSet<InProcessSiloHandle> _killed = [];
    private int _siloCounter;
    private InProcessTestCluster _cluster = null!;

    private PlatformCluster(PostgresDatabase database, PlatformOptions options)
    {
        Database = database;
        Options = options;
    }

    /// <summary>The Orleans client connected to the cluster's gateways.</summary>
    public IClusterClient Client => _cluster.Client;

    /// <summary>The test database (migrated).</summary>
    public PostgresDatabase Database { get; }

    /// <summary>Connection string (superuser of the test database), cluster id and service id of this cluster; unique
    /// per fixture. Use it to host an Api or a second client against the same cluster.</summary>
    public PlatformOptions Options { get; }

    /// <summary>The logical clock of grains and reminders. Starts at <see cref="Epoch"/>.</summary>
    public FakeTimeProvider Time { get; } = new(Epoch);

    /// <summary>The underlying Orleans test cluster, for what this class does not wrap.</summary>
    public InProcessTestCluster Cluster => _cluster;

    /// <summary>Silos that are running (killed and stopped ones are gone from the list).</summary>
    public IReadOnlyList<InProcessSiloHandle> Silos
    {
        get
        {
            lock (_killed)
            {
                return _cluster.Silos.Where(s => !_killed.Contains(s)).ToList();
            }
        }
    }

    /// <summary>Creates a database, applies the migrations, starts <paramref name="silos"/> silos and a client.
    /// <paramref name="configure"/> runs on every silo after the platform's own configuration (test grains' extra
    /// storage providers, option overrides).</summary>
    public static async Task<PlatformCluster> StartAsync(int silos = 1, Action<ISiloBuilder>? configure = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(silos);
        var database = await PostgresDatabase.CreateAsync("orl");
        try
        {
            await using (var db = database.CreateDataSource())
            {
                await new Migrator(db, Microsoft.Extensions.Logging.Abstractions.NullLogger<Migrator>.Instance)
                    .MigrateAsync(Migrator.Embedded(), CancellationToken.None);
            }
        }
        catch
        {
            await database.DisposeAsync();
            throw;
        }
        return await StartOnDatabaseAsync(database, silos, configure);
    }

    /// <summary>Starts a cluster on a database prepared by the caller (migrated, half-migrated or empty); the cluster
    /// owns <paramref name="database"/> afterwards and drops it on dispose (also when the start fails). With
    /// <paramref name="silosMigrate"/> every silo host applies the migrations before its silo starts, as the production
    /// host does; the initial silos start concurrently.</summary>
    public static async Task<PlatformCluster> StartOnDatabaseAsync(PostgresDatabase database, int silos = 1, Action<ISiloBuilder>? configure = null, bool silosMigrate = false)
    {
        var id = database.Name;
        var options = new PlatformOptions
        {
            Postgres = database.ConnectionString,
            ClusterId = $"{id}-cluster",
            ServiceId = $"{id}-service",
            SiloPort = 0,
            GatewayPort = 0,
            SecretsKey = SecretProtector.NewKey(),
        };
        var cluster = new PlatformCluster(database, options);
        var builder = new InProcessTestClusterBuilder((short)silos);
        builder.Options.ClusterId = options.ClusterId;
        builder.Options.ServiceId = options.ServiceId;
        // Off: the silos use our AdoNet membership. The switch is internal in TestingHost 10.4.2.
        (typeof(InProcessTestClusterOptions).GetProperty("UseTestClusterMembership", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("InProcessTestClusterOptions.UseTestClusterMembership not found: update PlatformCluster for this Orleans version."))
            .SetValue(builder.Options, false);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSiloHost((_, host) => cluster.ConfigureSiloHost(host, configure, silosMigrate));
        builder.ConfigureClientHost(host => host.ConfigureContainer(new DefaultServiceProviderFactory(), NetworkPlug.UseTcp));
        builder.ConfigureClient(client => client.UseAdoNetClustering(o =>
        {
            o.Invariant = PostgresSchema.Invariant;
            o.ConnectionString = options.Postgres;
        }));
        builder.ConfigureHost(host =>
        {
            host.Logging.AddFilter("Orleans.Runtime.Watchdog", LogLevel.Error);
            // PLATFORM_TEST_ORLEANS_LOG=Information (or Debug...) shows the silos' and client's logs on the console.
            if (Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("PLATFORM_TEST_ORLEANS_LOG"), out var level))
            {
                host.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }).SetMinimumLevel(level);
            }
        });
        cluster._cluster = builder.Build();
        try
        {
            await cluster._cluster.DeployAsync();
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Starts one more silo and waits until it is active.</summary>
    public Task<InProcessSiloHandle> StartSiloAsync() => _cluster.StartAdditionalSiloAsync();

    /// <summary>
    /// Crashes a silo: at once it loses its database (its role may no longer log in, its sessions are terminated) and
    /// its network (listeners unbound, connections aborted, no new ones). It cannot mark itself dead, answer a probe or
    /// serve a call; the other silos have to detect the failure. The isolated host is only torn down when the cluster
    /// is disposed. Note that its in-memory grains still see <see cref="Time"/> advance (their timers may fire), but
    /// nothing they do reaches the database or another silo.
    /// </summary>
    public async Task KillSiloAsync(InProcessSiloHandle silo)
    {
        var role = silo.ServiceProvider.GetRequiredService<SiloDatabaseRole>().Name;
        await using (var conn = new NpgsqlConnection(PostgresDatabase.ServerConnectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                $"ALTER ROLE \"{role}\" NOLOGIN; SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'", conn);
            await cmd.ExecuteNonQueryAsync();
        }
        await silo.ServiceProvider.GetRequiredService<NetworkPlug>().CutAsync();
        lock (_killed)
        {
            _killed.Add(silo);
        }
    }

    /// <summary>Stops a silo gracefully (it leaves the membership table as Dead itself).</summary>
    public Task StopSiloAsync(InProcessSiloHandle silo) => _cluster.StopSiloAsync(silo);

    /// <summary>Stops a silo gracefully and starts a new one in its place (a new silo generation).</summary>
    public async Task<InProcessSiloHandle> RestartSiloAsync(InProcessSiloHandle silo) =>
        await _cluster.RestartSiloAsync(silo) ?? throw new InvalidOperationException("The silo was not restarted.");

    /// <summary>Services of one silo (the first by default), e.g. to reach a grain-storage provider.</summary>
    public IServiceProvider SiloServices(InProcessSiloHandle? silo = null) => (silo ?? Silos[0]).ServiceProvider;

    /// <summary>Waits until <paramref name="condition"/> holds, polling every 50 ms, or fails with
    /// <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Not within {timeout.TotalSeconds:0.#} s: {what}");
            }
            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            List<InProcessSiloHandle> killed;
            lock (_killed)
            {
                killed = [.. _killed];
            }
            // Killed silos are already gone: the cluster must not try to stop them (a silo without database access
            // would retry its farewell for minutes).
            foreach (var silo in killed)
            {
                ForgetSilo(silo);
                // Nothing waits for a crashed process: its farewell retries against a database it cannot reach.
                _ = Task.Run(async () =>
                {
                    try
                    {
                        await silo.StopSiloAsync(stopGracefully: false);
                        await silo.DisposeAsync();
                    }
                    catch (Exception)
                    {
                        // Whatever a crashed silo throws on its way out is of no interest.
                    }
                });
            }
            try
            {
                await _cluster.StopAllSilosAsync();
            }
            finally
            {
                await _cluster.DisposeAsync();
            }
        }
        await Database.DisposeAsync();
        await using var conn = new NpgsqlConnection(PostgresDatabase.ServerConnectionString);
        await conn.OpenAsync();
        foreach (var role in _roles)
        {
            await using var cmd = new NpgsqlCommand($"DROP ROLE IF EXISTS \"{role}\"", conn);
            await cmd.ExecuteNonQueryAsync();
        }
    }

    private void ForgetSilo(InProcessSiloHandle silo)
    {
        // InProcessTestCluster has no public way to drop a silo it did not stop itself.
        var field = typeof(InProcessTestCluster).GetField("_silos", System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)
            ?? throw new InvalidOperationException("InProcessTestCluster._silos not found: update PlatformCluster.ForgetSilo for this Orleans version.");
        var list = (List<InProcessSiloHandle>)field.GetValue(_cluster)!;
        lock (list)
        {
            list.Remove(silo);
        }
    }

    private void ConfigureSiloHost(IHostApplicationBuilder host, Action<ISiloBuilder>? configure, bool migrate)
    {
        var role = CreateSiloRole();
        var siloOptions = new PlatformOptions
        {
            Postgres = new NpgsqlConnectionStringBuilder(Options.Postgres) { Username = role, ApplicationName = role }.ConnectionString,
            ClusterId = Options.ClusterId,
            ServiceId = Options.ServiceId,
            SecretsKey = Options.SecretsKey,
            PublicBaseUrl = Options.PublicBaseUrl,
        };
        host.Services.AddSingleton(new SiloDatabaseRole(role));
        // The silo's own options (its role's connection string), for grains that read PlatformOptions; a test's
        // configure delegate may add to them (e.g. SecretsKey).
        host.Services.Configure<PlatformOptions>(o =>
        {
            o.Postgres = siloOptions.Postgres;
            o.ClusterId = siloOptions.ClusterId;
            o.ServiceId = siloOptions.ServiceId;
            o.SiloPort = 0;
            o.GatewayPort = 0;
        });
        if (migrate)
        {
            // Before UseOrleans, so it runs (and can fail the start) before the silo starts, as in AddPlatformSilo.
            host.Services.AddHostedService<MigrationHostedService>();
        }
        // Real TCP, through a plug that KillSiloAsync can pull, once every registration is in (the test cluster adds its
        // in-memory transport after this delegate).
        host.ConfigureContainer(new DefaultServiceProviderFactory(), NetworkPlug.Install);
        host.UseOrleans(silo =>
        {
            silo.ConfigurePlatformSilo(siloOptions);
            UseLogicalTime(silo.Services, Time);
            // Most tests run no render worker: conversations are created unassigned. Tests of the pool set it back.
            silo.Services.Configure<RenderPoolOptions>(o => o.RequireWorker = false);
            configure?.Invoke(silo);
        });
    }

    /// <summary>The fake clock becomes the default TimeProvider (grains, grain timers, reminders, and anything of ours
    /// that injects TimeProvider); Orleans' infrastructure areas keep the system clock.</summary>
    private static void UseLogicalTime(IServiceCollection services, FakeTimeProvider time)
    {
        foreach (var d in services.Where(d => d.ServiceType == typeof(TimeProvider) && !d.IsKeyedService).ToList())
        {
            services.Remove(d);
        }
        services.AddSingleton<TimeProvider>(time);
        foreach (var area in (string[])[TimeProviderNames.Membership, TimeProviderNames.Messaging, TimeProviderNames.SystemTimers,
                     TimeProviderNames.ActivationManagement, TimeProviderNames.GrainDirectory])
        {
            services.AddKeyedSingleton(area, TimeProvider.System);
        }
    }

    private string CreateSiloRole()
    {
        var role = $"{Database.Name}_s{Interlocked.Increment(ref _siloCounter)}";
        using var conn = new NpgsqlConnection(PostgresDatabase.ServerConnectionString);
        conn.Open();
        using var cmd = new NpgsqlCommand($"CREATE ROLE \"{role}\" LOGIN SUPERUSER", conn);
        cmd.ExecuteNonQuery();
        _roles.Add(role);
        return role;
    }

    /// <summary>The PostgreSQL role a silo connects as.</summary>
    public sealed record SiloDatabaseRole(string Name);
}
