extern alias api;
using System.Text.Json.Nodes;
using Platform.Contracts;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests.LiveKit;

/// <summary>LiveKit's webhooks feeding the presence record, and the ones that must not.</summary>
[Collection(LiveKitCollection.Name)]
public sealed class LiveKitWebhookTests(LiveKitApiFixture fx)
{
    private async Task<(string Id, string Room)> CreateAsync(TenantClient t, string extra = "")
    {
        var id = (await t.ConversationAsync(await t.PersonaAsync(), extra))["conversation_id"]!.GetValue<string>();
        return (id, LiveKitApiFixture.RoomOf(t, id));
    }

    private async Task<List<string>> EventTypesAsync(TenantClient t, string id) =>
        (await fx.Grain(t, id).GetAsync(true))!.Events!.Select(e => e.EventType).Where(e => e != "system.warning").ToList();

    [Fact]
    public async Task Joins_and_leaves_drive_the_left_timeout_as_the_embedded_presence_does()
    {
        using var t = await fx.NewTenantAsync();
        var (id, room) = await CreateAsync(t, ""","properties":{"participant_left_timeout":60,"participant_absent_timeout":30}""");
        var user = $"user-{id}";
        await fx.DeliverAsync(LiveKitApiFixture.Event("participant_joined", room, user));
        await fx.DeliverAsync(LiveKitApiFixture.Event("participant_joined", room, "worker-r1", kind: "AGENT"));
        var presence = (await fx.Grain(t, id).GetAsync(true))!.Events!;
        Assert.Contains(presence, e => e.EventType == "system.replica_joined" && JsonNode.Parse(e.PropertiesJson)!["worker"]!.GetValue<string>() == "worker-r1");

        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(100)); // past the absent timeout: someone joined
        Assert.Equal(ConversationStatus.Active, (await fx.Grain(t, id).GetAsync(false))!.Status);
        await fx.DeliverAsync(LiveKitApiFixture.Event("participant_left", room, user));
        var leftAt = fx.Cluster.Time.GetUtcNow();
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(ConversationStatus.Active, (await fx.Grain(t, id).GetAsync(false))!.Status);
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(1));
        var ended = await Eventually.ReturnsAsync(async () => (await fx.Grain(t, id).GetAsync(false))!, c => c.Status == ConversationStatus.Ended, "ending");
        Assert.Equal(ShutdownReasons.ParticipantLeftTimeout, ended.ShutdownReason);
        Assert.Equal(leftAt.AddSeconds(60), ended.EndedAt);
        Assert.Equal(["system.participant_joined", "system.replica_joined", "system.participant_left", "system.shutdown", "application.transcription_ready"], await EventTypesAsync(t, id));
        await fx.LiveKit.WaitForAsync("DeleteRoom", room);

        // Events about an ended conversation are acknowledged (LiveKit must not retry them) and change nothing.
        await fx.DeliverAsync(LiveKitApiFixture.Event("participant_joined", room, user));
        Assert.Equal(ConversationStatus.Ended, (await fx.Grain(t, id).GetAsync(false))!.Status);
    }

    [Fact]
    public async Task Track_published_is_an_event_and_room_finished_records_everyone_leaving()
    {
        using var t = await fx.NewTenantAsync();
        var (id, room) = await CreateAsync(t, ""","properties":{"participant_left_timeout":60}""");
        var user = $"user-{id}";
        await fx.DeliverAsync(LiveKitApiFixture.Event("participant_joined", room, user));
        await fx.DeliverAsync(LiveKitApiFixture.Event("participant_joined", room, "worker-r1", kind: "AGENT"));
        await fx.DeliverAsync(LiveKitApiFixture.Event("track_published", room, user, track: new JsonObject
        {
            ["sid"] = "TR_AMkVbNf8rR3x", ["type"] = "AUDIO", ["name"] = "microphone", ["source"] = "MICROPHONE", ["mimeType"] = "audio/red",
        }));
        var published = (await fx.Grain(t, id).GetAsync(true))!.Events!.Single(e => e.EventType == "system.track_published");
        var props = JsonNode.Parse(published.PropertiesJson)!;
        Assert.Equal(user, props["participant_id"]!.GetValue<string>());
        Assert.Equal("TR_AMkVbNf8rR3x", props["track_sid"]!.GetValue<string>());
        Assert.Equal("audio", props["track_type"]!.GetValue<string>());
        Assert.Equal("microphone", props["source"]!.GetValue<string>());

        await fx.DeliverAsync(LiveKitApiFixture.Event("room_finished", room));
        var types = await EventTypesAsync(t, id);
        Assert.Equal(["system.participant_left", "system.replica_left"], types.Skip(types.Count - 2));
        // Nobody is left: the left timeout runs from room_finished.
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(60));
        var ended = await Eventually.ReturnsAsync(async () => (await fx.Grain(t, id).GetAsync(false))!, c => c.Status == ConversationStatus.Ended, "ending");
        Assert.Equal(ShutdownReasons.ParticipantLeftTimeout, ended.ShutdownReason);
    }

    [Fact]
    public async Task Forged_changed_stale_and_bearer_webhooks_are_refused_with_401_and_change_nothing()
    {
        using var t = await fx.NewTenantAsync();
        var (id, room) = await CreateAsync(t);
        var body = LiveKitApiFixture.Event("participant_joined", room, $"user-{id}");
        var cases = new (string Why, string Body, string? Auth, string Reason)[]
        {
            ("no header", body, null, "MissingAuthorization"),
            ("another secret", body, LiveKitApiFixture.Sign(body, "some-other-secret-0123456789abcdef0123456789"), "BadSignature"),
            ("a changed byte", body.Replace("participant_joined", "participant_joineD"), LiveKitApiFixture.Sign(body), "BodyHashMismatch"),
            ("a Bearer prefix", body, "Bearer " + LiveKitApiFixture.Sign(body), "BearerPrefix"),
        };
        foreach (var (why, b, auth, reason) in cases)
        {
            var response = await fx.PostWebhookAsync(b, auth);
            var problem = await Json(response, 401);
            Assert.True(reason == problem["reason"]!.GetValue<string>(), $"{why}: {problem}");
        }
        var stale = LiveKitApiFixture.Event("participant_joined", room, $"user-{id}", createdAt: DateTimeOffset.UtcNow.AddMinutes(-10));
        Assert.Equal("Stale", (await Json(await fx.PostWebhookAsync(stale, LiveKitApiFixture.Sign(stale)), 401))["reason"]!.GetValue<string>());
        Assert.Empty(await EventTypesAsync(t, id));
    }

    [Fact]
    public async Task A_replay_is_acknowledged_but_not_applied_and_unknown_events_are_acknowledged()
    {
        using var t = await fx.NewTenantAsync();
        var (id, room) = await CreateAsync(t);
        var body = LiveKitApiFixture.Event("participant_joined", room, $"user-{id}");
        var auth = LiveKitApiFixture.Sign(body);
        Assert.Equal(200, (int)(await fx.PostWebhookAsync(body, auth)).StatusCode);
        Assert.Equal(200, (int)(await fx.PostWebhookAsync(body, auth)).StatusCode);
        Assert.Equal(["system.participant_joined"], await EventTypesAsync(t, id));

        await fx.DeliverAsync(LiveKitApiFixture.Event("egress_started", room));
        await fx.DeliverAsync(LiveKitApiFixture.Event("participant_joined", "someone-elses-room", "x"));
        await fx.DeliverAsync(LiveKitApiFixture.Event("participant_joined", room, "recorder", kind: "EGRESS"));
        Assert.Equal(["system.participant_joined"], await EventTypesAsync(t, id));
    }
}

public sealed class RetryableReplayStoreTests
{
    [Fact]
    public async Task A_forgotten_event_is_let_through_once_more()
    {
        var store = new api::Platform.Api.LiveKit.RetryableReplayStore(TimeProvider.System);
        var expires = DateTimeOffset.UtcNow.AddMinutes(5);
        Assert.True(await store.TryRememberAsync("EV_1", expires));
        Assert.False(await store.TryRememberAsync("EV_1", expires));
        store.Forget("EV_1");
        Assert.True(await store.TryRememberAsync("EV_1", expires));
        Assert.False(await store.TryRememberAsync("EV_1", expires));
    }
}
