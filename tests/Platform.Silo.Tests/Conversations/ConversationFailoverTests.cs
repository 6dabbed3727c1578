using Orleans.Runtime;
using Platform.Contracts;
using Platform.Testing;

namespace Platform.Silo.Tests.Conversations;

/// <summary>Conversations keep their limits when the silo that hosted them dies: the deadline sweeper of a survivor ends them.</summary>
public sealed class ConversationFailoverTests
{
    [Fact]
    public async Task Conversations_of_a_killed_silo_are_readable_and_still_end_on_time()
    {
        await using var cluster = await PlatformCluster.StartAsync(silos: 2);
        var grains = cluster.Client;
        var tenant = TenantId.New();
        await grains.GetGrain<ITenantGrain>(tenant.ToGrainKey()).CreateAsync("T", TenantPlan.Default with { MaxConcurrentConversations = 100 });
        var persona = PersonaId.New(tenant);
        var replica = new ReplicaId(tenant, StockReplica.All[0].LocalId);
        Assert.True((await grains.GetGrain<IPersonaGrain>(persona.ToGrainKey()).CreateAsync($$"""{"system_prompt":"x","default_replica_id":"{{replica.Local}}"}""")).IsOk);

        var ids = Enumerable.Range(0, 12).Select(_ => ConversationId.New(tenant)).ToList();
        foreach (var id in ids)
        {
            var created = await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).CreateAsync($$$"""{"persona_id":"{{{persona.Local}}}","properties":{"participant_absent_timeout":120}}""");
            Assert.True(created.IsOk, created.Problem?.Detail);
        }
        var createdAt = cluster.Time.GetUtcNow();

        var victim = cluster.Silos[1];
        await cluster.KillSiloAsync(victim);
        // Until the survivor declares it dead (within ClusterTuning.FailureDetectionBound), calls routed to the dead
        // silo wait for their timeout; after that its grains re-activate on the survivor from PostgreSQL.
        await PlatformCluster.WaitUntilAsync(async () => await ClusterTests.StatusOfAsync(cluster, victim.SiloAddress) == (int)SiloStatus.Dead,
            Platform.Silo.Hosting.ClusterTuning.FailureDetectionBound, "the killed silo being declared dead");
        foreach (var id in ids)
        {
            var info = await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).GetAsync(false);
            Assert.Equal(ConversationStatus.Active, info!.Status);
        }

        cluster.Time.Advance(TimeSpan.FromSeconds(120));
        foreach (var id in ids)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            ConversationInfo? info;
            while ((info = await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).GetAsync(false))!.Status != ConversationStatus.Ended)
            {
                Assert.True(DateTime.UtcNow < deadline, $"conversation {id} did not end after its absent timeout");
                cluster.Time.Advance(TimeSpan.FromSeconds(1)); // keeps the sweeper's timer turning while the survivor takes over
                await Task.Delay(50);
            }
            Assert.Equal(ShutdownReasons.ParticipantAbsentTimeout, info.ShutdownReason);
            Assert.Equal(createdAt.AddSeconds(120), info.EndedAt);
        }
        var tenantInfo = await grains.GetGrain<ITenantGrain>(tenant.ToGrainKey()).GetAsync();
        Assert.Equal(0, tenantInfo!.ActiveConversations);
    }

    [Fact]
    public async Task A_conversation_ends_on_time_after_its_only_silo_restarts()
    {
        await using var cluster = await PlatformCluster.StartAsync();
        var grains = cluster.Client;
        var tenant = TenantId.New();
        await grains.GetGrain<ITenantGrain>(tenant.ToGrainKey()).CreateAsync("T", TenantPlan.Default);
        var persona = PersonaId.New(tenant);
        var replica = new ReplicaId(tenant, StockReplica.All[1].LocalId);
        Assert.True((await grains.GetGrain<IPersonaGrain>(persona.ToGrainKey()).CreateAsync($$"""{"system_prompt":"x","default_replica_id":"{{replica.Local}}"}""")).IsOk);
        var id = ConversationId.New(tenant);
        Assert.True((await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).CreateAsync($$"""{"persona_id":"{{persona.Local}}","properties":{"participant_left_timeout":30} }""")).IsOk);
        await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).JoinedAsync(PresenceRole.Participant, "u");
        await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).LeftAsync(PresenceRole.Participant, "u");
        var leftAt = cluster.Time.GetUtcNow();

        // The activation, its timer and everything in memory go away; only PostgreSQL remembers the deadline.
        await cluster.RestartSiloAsync(cluster.Silos[0]);
        cluster.Time.Advance(TimeSpan.FromSeconds(30));
        ConversationInfo? info = null;
        await PlatformCluster.WaitUntilAsync(async () =>
        {
            cluster.Time.Advance(TimeSpan.FromSeconds(1)); // the new silo's sweeper ticks on the logical clock
            try
            {
                info = await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).GetAsync(false);
            }
            catch (OrleansException)
            {
                return false; // the client is still reconnecting to the new silo's gateway
            }
            return info!.Status == ConversationStatus.Ended;
        }, TimeSpan.FromSeconds(30), "the conversation ending after the restart");
        Assert.Equal(ShutdownReasons.ParticipantLeftTimeout, info!.ShutdownReason);
        Assert.Equal(leftAt.AddSeconds(30), info.EndedAt);
    }
}
