using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using Platform.Contracts;
using Platform.Silo.Render;
using Platform.Testing;

namespace Platform.Silo.Tests.Render;

/// <summary>The render pool grain through a real cluster: workers are played by the test (register, heartbeat), time is
/// the cluster's fake clock, so every bound is asserted to the millisecond.</summary>
public sealed class RenderPoolTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static Task<PlatformCluster> StartAsync(int silos = 1) =>
        PlatformCluster.StartAsync(silos, s => s.Services.Configure<RenderPoolOptions>(o => o.RequireWorker = true));

    private static RenderWorkerInfo Worker(string id, int max) => new(id, max, RenderDevice.Cpu, "onnx-cpu", "test");

    private static async Task<PersonaId> TenantAsync(IGrainFactory grains)
    {
        var tenant = TenantId.New();
        await grains.GetGrain<ITenantGrain>(tenant.ToGrainKey()).CreateAsync("T", TenantPlan.Default with { MaxConcurrentConversations = 100 });
        var persona = PersonaId.New(tenant);
        var replica = new ReplicaId(tenant, StockReplica.All[0].LocalId);
        Assert.True((await grains.GetGrain<IPersonaGrain>(persona.ToGrainKey()).CreateAsync($$"""{"system_prompt":"x","default_replica_id":"{{replica.Local}}"}""")).IsOk);
        return persona;
    }

    private static async Task<Result<ConversationInfo>> CreateAsync(IGrainFactory grains, PersonaId persona, string extra = "")
    {
        var id = ConversationId.New(persona.Tenant);
        return await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).CreateAsync($$"""{"persona_id":"{{persona.Local}}"{{extra}}}""");
    }

    private static async Task<ConversationId> CreateOkAsync(IGrainFactory grains, PersonaId persona, string extra = "")
    {
        var created = await CreateAsync(grains, persona, extra);
        Assert.True(created.IsOk, created.Problem?.Detail);
        return created.Value!.Id;
    }

    private static List<string> Keys(IEnumerable<ConversationId> ids) => ids.Select(i => i.ToGrainKey()).Order(StringComparer.Ordinal).ToList();

    private static async Task<bool> HoldsAsync(IRenderPoolGrain pool, ConversationId id)
    {
        var info = await pool.GetAsync();
        return info.Unassigned.Contains(id) || info.Workers.Any(w => w.Assigned.Contains(id));
    }

    [Fact]
    public async Task Conversations_go_to_the_least_loaded_worker_and_creation_fails_fast_when_all_are_full()
    {
        await using var cluster = await StartAsync();
        var grains = cluster.Client;
        var pool = grains.GetGrain<IRenderPoolGrain>(RenderPool.Key);
        var persona = await TenantAsync(grains);

        var none = await CreateAsync(grains, persona);
        Assert.Equal(ProblemKind.Unavailable, none.Problem?.Kind);

        await pool.RegisterAsync(Worker("w-a", 2));
        await pool.RegisterAsync(Worker("w-b", 4));
        // Least share of capacity in use; ties go to the most free slots: b(0/4), a(0/2), b(1/4), b(2/4 = a's 1/2, more free), a, b.
        var expected = new[] { "w-b", "w-a", "w-b", "w-b", "w-a", "w-b" };
        var ids = new List<ConversationId>();
        foreach (var worker in expected)
        {
            var id = await CreateOkAsync(grains, persona);
            ids.Add(id);
            Assert.Equal(worker, await pool.WorkerOfAsync(id));
        }
        Assert.Equal(0, (await pool.GetAsync()).FreeSlots);

        // Full: a fast 503-kind problem with a retry hint, and nothing left behind (no conversation, no tenant slot).
        var refused = await CreateAsync(grains, persona);
        Assert.Equal(ProblemKind.Unavailable, refused.Problem?.Kind);
        Assert.Equal("5", refused.Problem!.Extensions!["retry_after"]);
        var tenant = await grains.GetGrain<ITenantGrain>(persona.Tenant.ToGrainKey()).GetAsync();
        Assert.Equal(6, tenant!.ActiveConversations);
        var page = await grains.GetGrain<ICatalogGrain>(persona.Tenant.ToGrainKey()).ListAsync(ResourceKind.Conversation, 1, 100);
        Assert.Equal(6, page.TotalCount);

        // test_mode takes no slot, even when the pool is full.
        var test = await CreateOkAsync(grains, persona, ""","test_mode":true""");
        Assert.False(await HoldsAsync(pool, test));

        // Ending one frees its slot for the next conversation.
        Assert.True((await grains.GetGrain<IConversationGrain>(ids[1].ToGrainKey()).EndAsync(ShutdownReasons.EndEndpoint)).IsOk);
        Assert.False(await HoldsAsync(pool, ids[1]));
        var next = await CreateOkAsync(grains, persona);
        Assert.Equal("w-a", await pool.WorkerOfAsync(next));

        // Each heartbeat answers the worker's complete set.
        var reply = await pool.HeartbeatAsync(new WorkerHeartbeat(Worker("w-a", 2), []));
        Assert.Equal(Keys([ids[4], next]), Keys(reply.Sessions.Select(s => s.Conversation)));
        Assert.All(reply.Sessions, s => Assert.Equal(1, s.Attempt));
    }

    [Fact]
    public async Task The_slot_is_released_when_the_conversation_ends_for_any_reason()
    {
        await using var cluster = await StartAsync();
        var grains = cluster.Client;
        var pool = grains.GetGrain<IRenderPoolGrain>(RenderPool.Key);
        var persona = await TenantAsync(grains);
        await pool.RegisterAsync(Worker("w", 100));
        var t0 = cluster.Time.GetUtcNow();

        var ended = await CreateOkAsync(grains, persona);
        var deleted = await CreateOkAsync(grains, persona);
        var absent = await CreateOkAsync(grains, persona, ""","properties":{"participant_absent_timeout":10}""");
        var left = await CreateOkAsync(grains, persona, ""","properties":{"participant_left_timeout":5}""");
        var max = await CreateOkAsync(grains, persona, ""","properties":{"max_call_duration":30}""");
        foreach (var id in new[] { ended, deleted, absent, left, max })
        {
            Assert.True(await HoldsAsync(pool, id), $"{id} holds a slot");
        }

        await grains.GetGrain<IConversationGrain>(ended.ToGrainKey()).EndAsync(ShutdownReasons.EndEndpoint);
        Assert.False(await HoldsAsync(pool, ended));
        Assert.True(await grains.GetGrain<IConversationGrain>(deleted.ToGrainKey()).DeleteAsync());
        Assert.False(await HoldsAsync(pool, deleted));

        var leftGrain = grains.GetGrain<IConversationGrain>(left.ToGrainKey());
        var maxGrain = grains.GetGrain<IConversationGrain>(max.ToGrainKey());
        await leftGrain.JoinedAsync(PresenceRole.Participant, "u1");
        await maxGrain.JoinedAsync(PresenceRole.Participant, "u2");
        cluster.Time.Advance(TimeSpan.FromSeconds(2));
        await leftGrain.LeftAsync(PresenceRole.Participant, "u1");

        // The worker is not heartbeating here: it is declared lost and the slots wait unassigned, still held.
        foreach (var (id, seconds, reason) in new[]
                 {
                     (left, 7, ShutdownReasons.ParticipantLeftTimeout),
                     (absent, 10, ShutdownReasons.ParticipantAbsentTimeout),
                     (max, 30, ShutdownReasons.MaxCallDuration),
                 })
        {
            var grain = grains.GetGrain<IConversationGrain>(id.ToGrainKey());
            Assert.True(await HoldsAsync(pool, id), $"{id} holds its slot until {reason}");
            cluster.Time.Advance(t0.AddSeconds(seconds) - cluster.Time.GetUtcNow());
            await PlatformCluster.WaitUntilAsync(async () => (await grain.GetAsync(false))!.Status == ConversationStatus.Ended, Wait, $"{id} ends by {reason}");
            var info = await grain.GetAsync(false);
            Assert.Equal(reason, info!.ShutdownReason);
            Assert.Equal(t0.AddSeconds(seconds), info.EndedAt);
            Assert.False(await HoldsAsync(pool, id), $"{id} released its slot at {reason}");
        }
        var pooled = await pool.GetAsync();
        Assert.Empty(pooled.Unassigned);
        Assert.All(pooled.Workers, w => Assert.Empty(w.Assigned));
    }

    [Fact]
    public async Task A_silent_worker_is_lost_at_the_bound_and_its_conversations_move_to_a_live_worker()
    {
        await using var cluster = await StartAsync();
        var grains = cluster.Client;
        var pool = grains.GetGrain<IRenderPoolGrain>(RenderPool.Key);
        var persona = await TenantAsync(grains);
        var t0 = cluster.Time.GetUtcNow();
        await pool.RegisterAsync(Worker("w-a", 4));
        await pool.RegisterAsync(Worker("w-b", 4));
        var c1 = await CreateOkAsync(grains, persona);
        var c2 = await CreateOkAsync(grains, persona);
        Assert.Equal("w-a", await pool.WorkerOfAsync(c1));
        Assert.Equal("w-b", await pool.WorkerOfAsync(c2));
        var conversation = grains.GetGrain<IConversationGrain>(c1.ToGrainKey());
        await conversation.JoinedAsync(PresenceRole.Replica, "w-a");

        // b keeps heartbeating; a falls silent after t0.
        cluster.Time.Advance(TimeSpan.FromMilliseconds(500));
        await pool.HeartbeatAsync(new WorkerHeartbeat(Worker("w-b", 4), [c2]));
        cluster.Time.Advance(TimeSpan.FromMilliseconds(500));
        await pool.HeartbeatAsync(new WorkerHeartbeat(Worker("w-b", 4), [c2]));
        cluster.Time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.Contains("w-a", (await pool.GetAsync()).Workers.Select(w => w.Info.WorkerId));
        Assert.Equal("w-a", await pool.WorkerOfAsync(c1));

        cluster.Time.Advance(TimeSpan.FromMilliseconds(1)); // t0 + 1.5 s
        await PlatformCluster.WaitUntilAsync(async () => await pool.WorkerOfAsync(c1) == "w-b", Wait, "c1 moves to w-b when w-a has been silent 1.5 s");
        Assert.DoesNotContain("w-a", (await pool.GetAsync()).Workers.Select(w => w.Info.WorkerId));
        var reply = await pool.HeartbeatAsync(new WorkerHeartbeat(Worker("w-b", 4), [c2]));
        var moved = Assert.Single(reply.Sessions, s => s.Conversation == c1);
        Assert.Equal((t0.AddMilliseconds(1500), 2), (moved.AssignedAt, moved.Attempt));

        // The presence record hears that the replica left when its worker was declared lost.
        await PlatformCluster.WaitUntilAsync(async () => (await conversation.GetAsync(true))!.Events!.Any(e => e.EventType == "system.replica_left"), Wait, "replica_left of w-a");
        var leftEvent = (await conversation.GetAsync(true))!.Events!.Single(e => e.EventType == "system.replica_left");
        Assert.Equal(t0.AddMilliseconds(1500), leftEvent.Timestamp);
        Assert.Contains("w-a", leftEvent.PropertiesJson);

        // When the lost worker comes back, it is registered again with nothing: c1 stays where it went.
        var back = await pool.HeartbeatAsync(new WorkerHeartbeat(Worker("w-a", 4), [c1]));
        Assert.Empty(back.Sessions);
        Assert.Equal("w-b", await pool.WorkerOfAsync(c1));
    }

    [Fact]
    public async Task Draining_workers_take_no_new_work_and_leaving_hands_conversations_to_the_next_free_slot()
    {
        await using var cluster = await StartAsync();
        var grains = cluster.Client;
        var pool = grains.GetGrain<IRenderPoolGrain>(RenderPool.Key);
        var persona = await TenantAsync(grains);
        await pool.RegisterAsync(Worker("w-a", 2));
        await pool.RegisterAsync(Worker("w-b", 2));
        var c1 = await CreateOkAsync(grains, persona);
        var c2 = await CreateOkAsync(grains, persona);
        Assert.Equal(("w-a", "w-b"), (await pool.WorkerOfAsync(c1), await pool.WorkerOfAsync(c2)));

        var draining = await pool.DrainAsync("w-a");
        Assert.True(draining.Draining);
        Assert.Equal([c1], draining.Sessions.Select(s => s.Conversation));
        var c3 = await CreateOkAsync(grains, persona);
        Assert.Equal("w-b", await pool.WorkerOfAsync(c3));
        Assert.Equal(ProblemKind.Unavailable, (await CreateAsync(grains, persona)).Problem?.Kind);
        // Its heartbeats keep saying so, and it keeps its conversation until it ends or the worker leaves.
        Assert.Equal([c1], (await pool.HeartbeatAsync(new WorkerHeartbeat(Worker("w-a", 2), [c1], Draining: true))).Sessions.Select(s => s.Conversation));

        // Leaving with c1 still running while nobody has room: c1 waits, and the next worker to register takes it.
        await pool.LeaveAsync("w-a");
        Assert.Equal([c1], (await pool.GetAsync()).Unassigned);
        var reply = await pool.RegisterAsync(Worker("w-c", 1));
        Assert.Equal((c1, 2), (reply.Sessions.Single().Conversation, reply.Sessions.Single().Attempt));
        Assert.Empty((await pool.GetAsync()).Unassigned);

        // A process that registers again under a drained worker's id takes work again.
        await pool.DrainAsync("w-b");
        Assert.False((await pool.RegisterAsync(Worker("w-b", 3))).Draining);
        Assert.Equal("w-b", await pool.WorkerOfAsync(await CreateOkAsync(grains, persona)));
    }

    [Fact]
    public async Task Assignments_survive_the_pool_grains_silo_being_killed()
    {
        await using var cluster = await StartAsync(silos: 2);
        var grains = cluster.Client;
        var pool = grains.GetGrain<IRenderPoolGrain>(RenderPool.Key);
        var persona = await TenantAsync(grains);
        await pool.RegisterAsync(Worker("w-a", 4));
        await pool.RegisterAsync(Worker("w-b", 4));
        var ids = new List<ConversationId>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await CreateOkAsync(grains, persona));
        }
        var before = await pool.GetAsync();

        var victim = cluster.Silos.Single(s => s.SiloAddress.ToString() == before.Host);
        await cluster.KillSiloAsync(victim);
        await PlatformCluster.WaitUntilAsync(async () => await ClusterTests.StatusOfAsync(cluster, victim.SiloAddress) == (int)SiloStatus.Dead,
            Platform.Silo.Hosting.ClusterTuning.FailureDetectionBound, "the pool's silo being declared dead");

        // The workers' next heartbeats reach a new activation, which has the assignments from PostgreSQL.
        HeartbeatReply? a = null;
        await PlatformCluster.WaitUntilAsync(async () =>
        {
            try
            {
                a = await pool.HeartbeatAsync(new WorkerHeartbeat(Worker("w-a", 4), []));
                return true;
            }
            catch (Exception e) when (e is OrleansException or TimeoutException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(60), "a heartbeat reaches the pool on the surviving silo");
        var b = await pool.HeartbeatAsync(new WorkerHeartbeat(Worker("w-b", 4), []));
        var after = await pool.GetAsync();
        Assert.NotEqual(before.Host, after.Host);
        Assert.Equal(Keys(before.Workers.Single(w => w.Info.WorkerId == "w-a").Assigned), Keys(a!.Sessions.Select(s => s.Conversation)));
        Assert.Equal(Keys(before.Workers.Single(w => w.Info.WorkerId == "w-b").Assigned), Keys(b.Sessions.Select(s => s.Conversation)));
        Assert.Equal(Keys(ids), Keys(a.Sessions.Concat(b.Sessions).Select(s => s.Conversation)));
        Assert.All(a.Sessions.Concat(b.Sessions), s => Assert.Equal(1, s.Attempt));
    }
}
