using Platform.Contracts;
using Platform.Testing;

namespace Platform.Render.Worker.Tests;

/// <summary>Workers on the cluster's fake clock: every heartbeat happens at a known logical instant, so the pool's bounds
/// (lost after 1.5 s of silence, moved within 3 s) are asserted exactly.</summary>
public sealed class RenderWorkerTests
{
    private static readonly TimeSpan Ms250 = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan Ms500 = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task A_killed_workers_conversations_move_to_a_live_worker_within_3_s_and_it_reports_the_replica()
    {
        await using var kit = await WorkerTestKit.StartAsync();
        var persona = await kit.TenantAsync();
        var t0 = kit.Now;
        // a heartbeats at t0 + k·500 ms, b at t0 + 250 + k·500 ms: no two exchanges share an instant.
        var a = await kit.StartWorkerAsync("w-a");
        await kit.StepAsync(Ms250);
        var b = await kit.StartWorkerAsync("w-b");
        var c1 = await kit.ConversationAsync(persona);
        var c2 = await kit.ConversationAsync(persona);
        Assert.Equal(("w-a", "w-b"), (await kit.Pool.WorkerOfAsync(c1), await kit.Pool.WorkerOfAsync(c2)));

        await kit.StepAsync(Ms250, a); // t0 + 0.5 s: a learns c1 from its heartbeat and starts it
        await kit.StepAsync(Ms250, b); // t0 + 0.75 s
        Assert.Equal([c1], a.Running);
        Assert.Equal([c2], b.Running);
        Assert.Equal([("system.replica_joined", "w-a", t0.AddMilliseconds(500))], await kit.ReplicaEventsAsync(c1));
        Assert.Equal([("system.replica_joined", "w-b", t0.AddMilliseconds(750))], await kit.ReplicaEventsAsync(c2));

        await kit.KillAsync(a); // its last heartbeat was at t0 + 0.5 s
        var lastHeard = t0.AddMilliseconds(500);
        await kit.StepAsync(Ms500, b); // 1.25 s
        await kit.StepAsync(Ms500, b); // 1.75 s
        await kit.StepAsync(TimeSpan.FromMilliseconds(249)); // 1.999 s: silent for 1.499 s, still a member
        Assert.Contains("w-a", (await kit.Pool.GetAsync()).Workers.Select(w => w.Info.WorkerId));
        Assert.Equal("w-a", await kit.Pool.WorkerOfAsync(c1));

        await kit.StepAsync(TimeSpan.FromMilliseconds(1)); // 2.0 s: silent for 1.5 s, lost
        await PlatformCluster.WaitUntilAsync(async () => await kit.Pool.WorkerOfAsync(c1) == "w-b", WorkerTestKit.Wait, "c1 reassigned to w-b");
        await PlatformCluster.WaitUntilAsync(async () => (await kit.ReplicaEventsAsync(c1)).Count == 2, WorkerTestKit.Wait, "replica_left of w-a recorded");
        await kit.StepAsync(Ms250, b); // 2.25 s: b's next heartbeat carries c1
        Assert.Equal([c1, c2], b.Running.OrderBy(c => c == c1 ? 0 : 1));
        var events = await kit.ReplicaEventsAsync(c1);
        Assert.Equal(
            [
                ("system.replica_joined", "w-a", lastHeard),
                ("system.replica_left", "w-a", lastHeard.AddMilliseconds(1500)),
                ("system.replica_joined", "w-b", t0.AddMilliseconds(2250)),
            ], events);
        Assert.True(events[2].At - lastHeard <= TimeSpan.FromSeconds(3), "the conversation moved within 3 s of its worker's last heartbeat");
        // c2 never noticed.
        Assert.Single(await kit.ReplicaEventsAsync(c2));
    }

    [Fact]
    public async Task Draining_waits_for_conversations_to_end_and_hands_back_the_rest_at_its_timeout()
    {
        await using var kit = await WorkerTestKit.StartAsync();
        var persona = await kit.TenantAsync();
        var t0 = kit.Now;
        var a = await kit.StartWorkerAsync("w-a", drainTimeout: TimeSpan.FromSeconds(30));
        var b = await kit.StartWorkerAsync("w-b", drainTimeout: TimeSpan.FromSeconds(1));
        var c1 = await kit.ConversationAsync(persona);
        var c2 = await kit.ConversationAsync(persona);
        await kit.StepAsync(Ms500, a, b); // 0.5 s
        Assert.Equal([c1], a.Running);
        Assert.Equal([c2], b.Running);

        // a drains: it keeps c1, gets nothing new, and leaves as soon as c1 ends.
        var drainA = await kit.BeginDrainAsync(a);
        await PlatformCluster.WaitUntilAsync(async () => (await kit.Pool.GetAsync()).Workers.Any(w => w.Info.WorkerId == "w-a" && w.Status == WorkerStatus.Draining), WorkerTestKit.Wait, "w-a draining");
        var c3 = await kit.ConversationAsync(persona);
        Assert.Equal("w-b", await kit.Pool.WorkerOfAsync(c3));
        await kit.StepAsync(Ms500, a, b); // 1.0 s
        Assert.False(drainA.IsCompleted, "a waits for c1");
        Assert.Equal([c1], a.Running);
        await kit.Grains.GetGrain<IConversationGrain>(c1.ToGrainKey()).EndAsync(ShutdownReasons.EndEndpoint);
        await kit.StepAsync(Ms500, a, b); // 1.5 s: a's heartbeat no longer lists c1
        await drainA.WaitAsync(WorkerTestKit.Wait);
        Assert.Empty(a.Running);
        Assert.DoesNotContain("w-a", (await kit.Pool.GetAsync()).Workers.Select(w => w.Info.WorkerId));

        // b drains with a 1 s timeout and two live conversations: at the timeout it stops them and leaves; w-c takes them.
        var drainB = await kit.BeginDrainAsync(b); // at 1.5 s: b's drain heartbeats at 2.0 and 2.5 s
        await kit.StepAsync(Ms250); // 1.75 s
        var c = await kit.StartWorkerAsync("w-c"); // heartbeats at 2.25, 2.75 s
        await kit.StepAsync(Ms250, b); // 2.0 s
        await kit.StepAsync(Ms250, c); // 2.25 s: b still holds them, nothing for c
        Assert.Empty(c.Running);
        Assert.False(drainB.IsCompleted, "b waits until its timeout");
        await kit.StepAsync(Ms250, b); // 2.5 s: the timeout; b hands back
        await drainB.WaitAsync(WorkerTestKit.Wait);
        Assert.Equal("w-c", await kit.Pool.WorkerOfAsync(c2));
        await kit.StepAsync(Ms250, c); // 2.75 s
        Assert.Equal(2, c.Running.Count);
        Assert.Equal(
            [
                ("system.replica_joined", "w-b", t0.AddMilliseconds(500)),
                ("system.replica_left", "w-b", t0.AddMilliseconds(2500)),
                ("system.replica_joined", "w-c", t0.AddMilliseconds(2750)),
            ], await kit.ReplicaEventsAsync(c2));
        var pool = await kit.Pool.GetAsync();
        Assert.Equal(["w-c"], pool.Workers.Select(w => w.Info.WorkerId));
        Assert.Equal(2, pool.FreeSlots);
    }
}
