using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Silo.Render;
using Platform.Testing;

namespace Platform.Render.Worker.Tests;

/// <summary>Real workers (the production <see cref="RenderWorker"/> and <see cref="PresenceSessionRunner"/>) against a
/// real cluster, all on the cluster's fake clock. Each worker's loop runs until the test "kills" it (cancels it
/// without draining) or drains it.</summary>
internal sealed class WorkerTestKit : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(500);

    private readonly List<(RenderWorker Worker, CancellationTokenSource Life, Task Loop)> _workers = [];

    private WorkerTestKit(PlatformCluster cluster) => Cluster = cluster;

    public PlatformCluster Cluster { get; }
    public IGrainFactory Grains => Cluster.Client;
    public IRenderPoolGrain Pool => Grains.GetGrain<IRenderPoolGrain>(RenderPool.Key);
    public DateTimeOffset Now => Cluster.Time.GetUtcNow();

    public static async Task<WorkerTestKit> StartAsync() =>
        new(await PlatformCluster.StartAsync(configure: s => s.Services.Configure<RenderPoolOptions>(o => o.RequireWorker = true)));

    /// <summary>Starts a worker's loop now and waits for its registration.</summary>
    public async Task<RenderWorker> StartWorkerAsync(string id, int maxSessions = 4, TimeSpan? drainTimeout = null)
    {
        var options = Options.Create(new RenderOptions { WorkerId = id, MaxSessions = maxSessions, DrainTimeout = drainTimeout ?? TimeSpan.FromSeconds(30) });
        var worker = new RenderWorker(Grains, new PresenceSessionRunner(Grains, options), options, Cluster.Time, NullLogger<RenderWorker>.Instance);
        var life = new CancellationTokenSource();
        var loop = worker.RunAsync(life.Token);
        _workers.Add((worker, life, loop));
        await CycledAsync(worker, 0, "registration");
        return worker;
    }

    /// <summary>What kill -9 looks like to the pool: the loop stops, nothing is drained, nothing is said.</summary>
    public async Task KillAsync(RenderWorker worker)
    {
        var entry = _workers.Single(w => w.Worker == worker);
        await entry.Life.CancelAsync();
        await entry.Loop;
    }

    /// <summary>Stops a worker's heartbeat loop and drains it (as the host does on stop); returns the drain.</summary>
    public async Task<Task> BeginDrainAsync(RenderWorker worker)
    {
        await KillAsync(worker);
        return worker.DrainAsync(CancellationToken.None);
    }

    /// <summary>Advances the clock and waits until each of <paramref name="expected"/> has finished one more exchange
    /// with the pool (the workers whose period falls in the step).</summary>
    public async Task StepAsync(TimeSpan by, params RenderWorker[] expected)
    {
        var before = expected.Select(w => w.Cycles).ToList();
        Cluster.Time.Advance(by);
        for (var i = 0; i < expected.Length; i++)
        {
            await CycledAsync(expected[i], before[i], $"a heartbeat at {Now:HH:mm:ss.fff}");
        }
    }

    private static Task CycledAsync(RenderWorker worker, long before, string what) =>
        PlatformCluster.WaitUntilAsync(() => Task.FromResult(worker.Cycles > before), Wait, $"{worker.Info.WorkerId}: {what}");

    public async Task<PersonaId> TenantAsync()
    {
        var tenant = TenantId.New();
        await Grains.GetGrain<ITenantGrain>(tenant.ToGrainKey()).CreateAsync("T", TenantPlan.Default with { MaxConcurrentConversations = 100 });
        var persona = PersonaId.New(tenant);
        var replica = new ReplicaId(tenant, StockReplica.All[0].LocalId);
        Assert.True((await Grains.GetGrain<IPersonaGrain>(persona.ToGrainKey()).CreateAsync($$"""{"system_prompt":"x","default_replica_id":"{{replica.Local}}"}""")).IsOk);
        return persona;
    }

    public async Task<ConversationId> ConversationAsync(PersonaId persona)
    {
        var id = ConversationId.New(persona.Tenant);
        var created = await Grains.GetGrain<IConversationGrain>(id.ToGrainKey()).CreateAsync($$"""{"persona_id":"{{persona.Local}}"}""");
        Assert.True(created.IsOk, created.Problem?.Detail);
        return id;
    }

    /// <summary>The conversation's replica presence events, in order: (type, worker, time).</summary>
    public async Task<List<(string Type, string Worker, DateTimeOffset At)>> ReplicaEventsAsync(ConversationId id)
    {
        var info = await Grains.GetGrain<IConversationGrain>(id.ToGrainKey()).GetAsync(true);
        return info!.Events!
            .Where(e => e.EventType is "system.replica_joined" or "system.replica_left")
            .Select(e => (e.EventType, System.Text.Json.Nodes.JsonNode.Parse(e.PropertiesJson)!["worker"]!.GetValue<string>(), e.Timestamp))
            .ToList();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, life, loop) in _workers)
        {
            await life.CancelAsync();
            await loop;
            life.Dispose();
        }
        await Cluster.DisposeAsync();
    }
}
