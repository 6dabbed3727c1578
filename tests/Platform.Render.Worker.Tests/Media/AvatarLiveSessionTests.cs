using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.LiveKit.Ffi.Conversations;
using Platform.LiveKit.Ffi.Proto;
using Platform.LiveKit.Ffi.Tests;
using Platform.Testing;
using Platform.Testing.LiveKit;

namespace Platform.Render.Worker.Tests.Media;

/// <summary>
/// Avatar mode on a real cluster and the production runner, through LiveKit's conversation link over the recorded
/// library (the room events are encoded as the native library emits them): the worker joins the tenant's room with the
/// tenant's token, and since the tenant's LiveKit sends us no webhooks, the worker itself reports who is in the call:
/// the presence record is what billing reads.
/// </summary>
public sealed class AvatarLiveSessionTests
{
    private const string Agent = TenantLiveKit.Agent;

    [Fact]
    public async Task In_avatar_mode_the_worker_joins_the_tenants_room_opens_no_microphone_and_reports_itself_and_the_agent_as_they_come_and_go()
    {
        await using var kit = await MediaTestKit.StartAsync();
        var library = new RecordedLibrary();
        var joins = new ConcurrentQueue<LiveKitLinkOptions>();
        var worker = await kit.StartWorkerAsync("w1", async (options, handler, time, cancellationToken) =>
        {
            joins.Enqueue(options);
            return await LiveKitConversationLink.StartAsync(library.Client, options, handler, time, cancellationToken);
        });
        var token = TenantLiveKit.Token(kit.Cluster.Time);
        var conversation = await kit.ConversationAsync(greeting: null, properties: new JsonObject
        {
            ["livekit_ws_url"] = TenantLiveKit.Url,
            ["livekit_room_token"] = token,
        });
        var grain = kit.Grains.GetGrain<IConversationGrain>(conversation.ToGrainKey());
        async Task<IReadOnlyList<string>> Presence() =>
            [.. (await grain.GetAsync(true))!.Events!.Select(e => e.EventType).Where(t => t is "system.replica_joined" or "system.participant_joined" or "system.participant_left")];

        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(600));
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(worker.Runner.FindRoom(conversation)?.Joined == true), MediaTestKit.Wait, "the tenant's room joined");
        var join = Assert.Single(joins);
        Assert.Equal(TenantLiveKit.Url, join.Url);
        Assert.Equal(token, await join.Token(CancellationToken.None));
        Assert.False(join.ListenToMicrophones);

        // Joined: the worker reports the replica; the agent is not there yet.
        await PlatformCluster.WaitUntilAsync(async () => (await Presence()).Count >= 1, MediaTestKit.Wait, "the replica's presence");
        Assert.Equal(["system.replica_joined"], await Presence());

        // The end user and the agent arrive: only the agent is the conversation's participant (it speaks through us).
        foreach (var who in new[] { "user-1", Agent })
        {
            library.EmitRoomEvent(new RoomEvent
            {
                ParticipantConnected = new ParticipantConnected
                {
                    Info = new OwnedParticipant { Handle = new FfiOwnedHandle { Id = library.NextHandle() }, Info = new ParticipantInfo { Identity = who, Kind = ParticipantKind.Standard } },
                },
            });
        }
        await PlatformCluster.WaitUntilAsync(async () => (await Presence()).Count >= 2, MediaTestKit.Wait, "the agent's presence");
        await kit.AdvanceAsync(TimeSpan.FromMilliseconds(200));
        Assert.Equal(["system.replica_joined", "system.participant_joined"], await Presence());

        // The end user leaving changes nothing; the agent leaving is the participant leaving.
        foreach (var who in new[] { "user-1", Agent })
        {
            library.EmitRoomEvent(new RoomEvent { ParticipantDisconnected = new ParticipantDisconnected { ParticipantIdentity = who, DisconnectReason = DisconnectReason.ClientInitiated } });
        }
        await PlatformCluster.WaitUntilAsync(async () => (await Presence()).Count >= 3, MediaTestKit.Wait, "the agent left");
        Assert.Equal(["system.replica_joined", "system.participant_joined", "system.participant_left"], await Presence());

        // Nobody's microphone was opened and none of our protocol went into the tenant's room.
        Assert.Empty(library.Sent(r => r.AudioStreamFromParticipant));
        Assert.DoesNotContain(library.PublishedData, d => d.Topic == Platform.LiveKit.Ffi.Media.LiveKitMediaSink.InteractionsTopic);

        // The call ends: the worker leaves the tenant's room.
        Assert.True((await grain.EndAsync(ShutdownReasons.EndEndpoint)).IsOk);
        await kit.AdvanceAsync(TimeSpan.FromSeconds(1));
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(library.Sent(r => r.Disconnect).Any()), MediaTestKit.Wait, "the room left");
    }
}
