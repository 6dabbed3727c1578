using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans.Configuration;
using Platform.Silo.Infrastructure;
using Orleans.TestingHost;
using Platform.Silo.Hosting;
using Platform.Silo.Tests.Grains;
using Platform.Testing;

namespace Platform.Silo.Tests;

/// <summary>Two silos on our AdoNet membership, grain storage and reminders; a silo crash.</summary>
public sealed class ClusterTests
{
    internal sealed record MembershipRow(string Address, int Port, int Generation, int Status, string? SuspectTimes);

    internal static async Task<List<MembershipRow>> MembershipAsync(PlatformCluster cluster)
    {
        await using var db = cluster.Database.CreateDataSource();
        await using var cmd = db.CreateCommand("SELECT address, port, generation, status, suspect_times FROM orleans_membership WHERE cluster_id = $1");
        cmd.Parameters.AddWithValue(cluster.Options.ClusterId);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<MembershipRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new(reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }
        return rows;
    }

    internal static async Task<int?> StatusOfAsync(PlatformCluster cluster, SiloAddress silo) =>
        (await MembershipAsync(cluster)).SingleOrDefault(r => r.Port == silo.Endpoint.Port && r.Generation == silo.Generation)?.Status;

    /// <summary>Calls <paramref name="call"/> until it succeeds (each try bounded), for the moments when the client or the
    /// directory still points at a silo that died.</summary>
    private static async Task<T> EventuallyAsync<T>(Func<Task<T>> call, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return await call().WaitAsync(TimeSpan.FromSeconds(3));
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50); // poll interval, not a synchronisation
            }
        }
    }

    /// <summary>The silo whose reminder service owns <paramref name="hash"/> on the consistent ring (the ring provider is
    /// internal to Orleans.Runtime, hence reflection).</summary>
    private static SiloAddress ReminderRingOwner(PlatformCluster cluster, uint hash)
    {
        var type = AppDomain.CurrentDomain.GetAssemblies().Single(a => a.GetName().Name == "Orleans.Runtime").GetType("Orleans.Runtime.ConsistentRing.IConsistentRingProvider", throwOnError: true)!;
        var ring = cluster.SiloServices().GetRequiredService(type);
        return (SiloAddress)type.GetMethod("GetPrimaryTargetSilo")!.Invoke(ring, [hash])!;
    }

    [Fact]
    public async Task Two_silos_are_active_and_a_crashed_one_is_voted_dead_within_the_bound_with_its_grains_still_readable()
    {
        await using var cluster = await PlatformCluster.StartAsync(silos: 2);
        var rows = await MembershipAsync(cluster);
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal((int)SiloStatus.Active, r.Status));
        Assert.Equal(cluster.Silos.Select(s => s.SiloAddress.Endpoint.Port).Order(), rows.Select(r => r.Port).Order());

        // Grains spread over both silos (random placement), each with persisted state.
        var placed = new Dictionary<string, string>();
        for (var i = 0; placed.Values.Distinct().Count() < 2 || placed.Count < 16; i++)
        {
            Assert.True(i < 200, "grains landed on both silos");
            var key = $"t1/k{i}";
            var grain = cluster.Client.GetGrain<ICounterGrain>(key);
            await grain.IncrementAsync();
            await grain.IncrementAsync();
            placed[key] = (await grain.SnapshotAsync()).Silo;
        }

        var victim = cluster.Silos.First(s => placed.ContainsValue(s.SiloAddress.ToString()));
        var survivor = cluster.Silos.Single(s => s != victim);
        await cluster.KillSiloAsync(victim);

        await PlatformCluster.WaitUntilAsync(async () => await StatusOfAsync(cluster, victim.SiloAddress) == (int)SiloStatus.Dead,
            ClusterTuning.FailureDetectionBound, $"the crashed silo {victim.SiloAddress} is marked Dead in the membership table");
        var dead = (await MembershipAsync(cluster)).Single(r => r.Port == victim.SiloAddress.Endpoint.Port);
        // Declared by the survivor's votes: the crashed silo could not write anything.
        Assert.Contains(survivor.SiloAddress.ToParsableString(), dead.SuspectTimes);
        Assert.Equal((int)SiloStatus.Active, await StatusOfAsync(cluster, survivor.SiloAddress));

        foreach (var key in placed.Keys)
        {
            var snapshot = await EventuallyAsync(() => cluster.Client.GetGrain<ICounterGrain>(key).SnapshotAsync(), TimeSpan.FromSeconds(30));
            Assert.Equal((2, survivor.SiloAddress.ToString()), (snapshot.Value, snapshot.Silo));
        }
    }

    [Fact]
    public async Task Reminders_spread_over_both_silos_fire_on_logical_time_and_move_to_the_survivor()
    {
        await using var cluster = await PlatformCluster.StartAsync(silos: 2);
        var run = Guid.NewGuid().ToString("N")[..8];
        var type = cluster.Client.GetGrain<IReminderProbeGrain>("t/x").GetGrainId().Type;
        uint HashOf(string key) => GrainId.Create(type, key).GetUniformHashCode();

        var keys = Enumerable.Range(0, 40).Select(i => $"{run}/r{i}").ToList();
        // Grains at the ends of the ring (inside the range that wraps past uint.MaxValue) and around the signed
        // boundary, where the range queries switch between ReadRangeRows1 and ReadRangeRows2.
        foreach (var wanted in new Func<uint, bool>[] { h => h < 1u << 20, h => h > uint.MaxValue - (1u << 20), h => h is > 0x7FF0_0000 and < 0x8010_0000 })
        {
            keys.Add(Enumerable.Range(0, int.MaxValue).Select(i => $"{run}/edge{i}").First(k => wanted(HashOf(k))));
        }

        var owners = keys.GroupBy(k => ReminderRingOwner(cluster, HashOf(k))).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(2, owners.Count); // both silos' reminder services hold some

        foreach (var key in keys)
        {
            await cluster.Client.GetGrain<IReminderProbeGrain>(key).RegisterAsync(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10));
        }
        await using (var db = cluster.Database.CreateDataSource())
        await using (var cmd = db.CreateCommand("SELECT count(*) FROM orleans_reminder WHERE start_time = $1"))
        {
            cmd.Parameters.AddWithValue(PlatformCluster.Epoch.AddMinutes(1)); // stamped on the logical clock
            Assert.Equal((long)keys.Count, await cmd.ExecuteScalarAsync());
        }
        Assert.All(keys, k => Assert.Empty(ReminderLog.Of(k)));

        cluster.Time.Advance(TimeSpan.FromMinutes(1));
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(keys.All(k => ReminderLog.Of(k).Count >= 1)), TimeSpan.FromSeconds(30),
            $"every reminder fired once; missing: {string.Join(", ", keys.Where(k => ReminderLog.Of(k).Count == 0).Take(5))}");
        Assert.All(keys, k => Assert.Equal(PlatformCluster.Epoch.AddMinutes(1), ReminderLog.Of(k)[0].At));

        // The silo holding the wrap-around range dies; the survivor takes over its range and its reminders.
        var victim = cluster.Silos.Single(s => s.SiloAddress.Equals(ReminderRingOwner(cluster, HashOf(keys[40]))));
        await cluster.KillSiloAsync(victim);
        await PlatformCluster.WaitUntilAsync(async () => await StatusOfAsync(cluster, victim.SiloAddress) == (int)SiloStatus.Dead,
            ClusterTuning.FailureDetectionBound, "the crashed silo is marked Dead");

        var survivor = cluster.Silos.Single().SiloAddress.ToString();
        bool FiredOnSurvivor(string k) => ReminderLog.Of(k).Skip(1).Any(t => t.Silo == survivor);
        await PlatformCluster.WaitUntilAsync(() =>
        {
            // Logical time moves on a minute per poll until every reminder, the dead silo's included, fired again on the
            // survivor (the isolated silo's own timers may still tick in memory, so ticks are told apart by silo).
            cluster.Time.Advance(TimeSpan.FromMinutes(1));
            return Task.FromResult(keys.All(FiredOnSurvivor));
        }, TimeSpan.FromSeconds(30), $"every reminder fired again on the survivor after the crash; missing: {string.Join(", ", keys.Where(k => !FiredOnSurvivor(k)).Take(5))}");
        Assert.NotEmpty(owners[victim.SiloAddress]);
    }

    [Fact]
    public async Task A_separately_hosted_client_finds_the_gateways_in_the_membership_table_and_connects_over_tcp()
    {
        await using var cluster = await PlatformCluster.StartAsync();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.Options.ClusterId;
                o.ServiceId = cluster.Options.ServiceId;
            });
            client.UseAdoNetClustering(o =>
            {
                o.Invariant = PostgresSchema.Invariant;
                o.ConnectionString = cluster.Options.Postgres;
            });
        });
        using var host = builder.Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IClusterClient>();
        Assert.Equal(1, await grains.GetGrain<ICounterGrain>("t1/external").IncrementAsync());
        Assert.Equal(2, await cluster.Client.GetGrain<ICounterGrain>("t1/external").IncrementAsync());
        await host.StopAsync();
    }

    [Fact]
    public async Task Grain_timers_reminders_and_injected_TimeProvider_follow_the_fake_clock()
    {
        await using var cluster = await PlatformCluster.StartAsync();
        var timer = cluster.Client.GetGrain<ITimerProbeGrain>($"t/{Guid.NewGuid():N}");
        Assert.Equal(PlatformCluster.Epoch, await timer.NowAsync());

        await timer.StartAsync(TimeSpan.FromMinutes(10));
        cluster.Time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(0, await timer.TicksAsync());
        cluster.Time.Advance(TimeSpan.FromMinutes(1));
        await PlatformCluster.WaitUntilAsync(async () => await timer.TicksAsync() == 1, TimeSpan.FromSeconds(10), "the grain timer fired when logical time reached its due time");
        Assert.Equal(PlatformCluster.Epoch.AddMinutes(10), await timer.NowAsync());

        var key = $"t/{Guid.NewGuid():N}";
        await cluster.Client.GetGrain<IReminderProbeGrain>(key).RegisterAsync(TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(5));
        cluster.Time.Advance(TimeSpan.FromMinutes(2));
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(ReminderLog.Of(key).Count == 1), TimeSpan.FromSeconds(10), "the reminder fired on logical time");
        Assert.Equal(PlatformCluster.Epoch.AddMinutes(12), ReminderLog.Of(key)[0].At);
        cluster.Time.Advance(TimeSpan.FromMinutes(5));
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(ReminderLog.Of(key).Count == 2), TimeSpan.FromSeconds(10), "the reminder fired again one period later");
        await cluster.Client.GetGrain<IReminderProbeGrain>(key).UnregisterAsync();
    }
}
