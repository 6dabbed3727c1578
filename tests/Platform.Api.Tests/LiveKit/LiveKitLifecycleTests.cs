using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Platform.Contracts;
using Platform.LiveKit.Rooms;
using Platform.LiveKit.Tokens;
using Platform.Silo.LiveKit;
using static Platform.Api.Tests.ApiFixture;
using Platform.Testing.LiveKit;

namespace Platform.Api.Tests.LiveKit;

/// <summary>Each conversation's LiveKit room: created with it, deleted when it ends, swept when orphaned.</summary>
[Collection(LiveKitCollection.Name)]
public sealed class LiveKitLifecycleTests(LiveKitApiFixture fx)
{
    private async Task<(string Id, string Room, JsonObject Body)> CreateAsync(TenantClient t, string extra = "")
    {
        var body = await t.ConversationAsync(await t.PersonaAsync(), extra);
        var id = body["conversation_id"]!.GetValue<string>();
        return (id, LiveKitApiFixture.RoomOf(t, id), body);
    }

    private async Task<ConversationInfo> EndedAsync(TenantClient t, string id) =>
        await Eventually.ReturnsAsync(async () => (await fx.Grain(t, id).GetAsync(false))!, c => c.Status == ConversationStatus.Ended, $"conversation {id} ending");

    [Fact]
    public async Task Create_makes_the_room_from_the_conversations_properties_with_a_room_create_grant()
    {
        using var t = await fx.NewTenantAsync();
        var (id, room, body) = await CreateAsync(t, ""","max_participants":3,"properties":{"participant_absent_timeout":30,"participant_left_timeout":45,"max_call_duration":600}""");

        var call = Assert.Single(fx.LiveKit.CallsFor("CreateRoom", room));
        Assert.Equal(30u, call.Body["emptyTimeout"]!.GetValue<uint>());
        Assert.Equal(45u, call.Body["departureTimeout"]!.GetValue<uint>());
        Assert.Equal(3u, call.Body["maxParticipants"]!.GetValue<uint>());
        var metadata = JsonNode.Parse(call.Body["metadata"]!.GetValue<string>())!;
        Assert.Equal(t.Tenant.Value, metadata["tenant_id"]!.GetValue<string>());
        Assert.Equal(id, metadata["conversation_id"]!.GetValue<string>());
        // A per-call admin token carrying only roomCreate: no identity, no join, no room admin.
        Assert.StartsWith("Bearer ", call.Authorization);
        Assert.Equal(VideoGrant.ForRoomCreate(), call.Grants.Video);
        Assert.Null(call.Grants.Identity);
        Assert.True(fx.LiveKit.Rooms.ContainsKey(room));

        // The answer carries what the page needs: the URL, the room and the end user's token, bounded by max_call_duration.
        var livekit = body["livekit"]!.AsObject();
        Assert.Equal(fx.LiveKit.Url, livekit["url"]!.GetValue<string>());
        Assert.Equal(room, livekit["room"]!.GetValue<string>());
        var created = (await fx.Grain(t, id).GetAsync(false))!.CreatedAt;
        var verifier = new LiveKitTokenVerifier(FakeLiveKitServer.Options(fx.LiveKit.Url), fx.Cluster.Time);
        var token = verifier.Verify(livekit["token"]!.GetValue<string>());
        Assert.Equal(created.AddSeconds(600), token.ExpiresAt);
        Assert.Equal($"user-{id}", token.Grants.Identity);
        Assert.Equal(TokenKinds.Standard, token.Grants.Kind);
        Assert.True(token.Grants.Video!.RoomJoin);
        Assert.Equal(room, token.Grants.Video.Room);
        Assert.False(token.Grants.Video.RoomAdmin || token.Grants.Video.RoomCreate || token.Grants.Video.RoomList);
        Assert.Equal([TrackSource.Camera, TrackSource.Microphone], token.Grants.Video.CanPublishSources!.Order());
        Assert.DoesNotContain(FakeLiveKitServer.ApiSecret, body.ToJsonString());

        // GET gives the page a token again; the listing (stored in the index) never holds one.
        var got = await Json(await t.Http.GetAsync($"/v2/conversations/{id}"));
        Assert.Equal(room, verifier.Verify(got["livekit"]!["token"]!.GetValue<string>()).Grants.Video!.Room);
        var listed = (await Json(await t.Http.GetAsync("/v2/conversations")))["data"]![0]!.AsObject();
        Assert.Equal(room, listed["livekit"]!["room"]!.GetValue<string>());
        Assert.Null(listed["livekit"]!["token"]);
    }

    [Fact]
    public async Task Test_mode_conversations_get_no_room()
    {
        using var t = await fx.NewTenantAsync();
        var (_, room, body) = await CreateAsync(t, ""","test_mode":true""");
        Assert.Empty(fx.LiveKit.CallsFor("CreateRoom", room));
        Assert.Null(body["livekit"]);
    }

    [Fact]
    public async Task A_room_LiveKit_refuses_fails_the_create_with_503_and_leaves_nothing()
    {
        using var t = await fx.NewTenantAsync("""{"max_concurrent_conversations":1,"requests_per_second":100000}""");
        var persona = await t.PersonaAsync();
        fx.LiveKit.FailCreateRoom = true;
        HttpResponseMessage refused;
        try
        {
            refused = await t.Http.PostAsync("/v2/conversations", Body($$"""{"persona_id":"{{persona}}"}"""));
        }
        finally
        {
            fx.LiveKit.FailCreateRoom = false;
        }
        var problem = await Json(refused, 503);
        Assert.Equal("5", refused.Headers.GetValues("Retry-After").Single());
        Assert.Contains("could not be created", problem["detail"]!.GetValue<string>());
        Assert.Equal("unavailable", problem["livekit_error"]!.GetValue<string>());
        Assert.Equal(0, (await Json(await t.Http.GetAsync("/v2/conversations")))["total_count"]!.GetValue<int>());
        // The slot was given back: the plan's single conversation can be created now.
        var created = await t.ConversationAsync(persona);
        Assert.True(fx.LiveKit.Rooms.ContainsKey(LiveKitApiFixture.RoomOf(t, created["conversation_id"]!.GetValue<string>())));
        Assert.Equal(1, (await Json(await t.Http.GetAsync("/v2/conversations")))["total_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_page_and_the_worker_get_their_own_joins_only_through_a_valid_link_while_the_call_is_live()
    {
        using var t = await fx.NewTenantAsync();
        var (id, room, body) = await CreateAsync(t);
        var grain = fx.Grain(t, id);
        var urlToken = body["conversation_url"]!.GetValue<string>().Split('/')[^1];
        var verifier = new LiveKitTokenVerifier(FakeLiveKitServer.Options(fx.LiveKit.Url), fx.Cluster.Time);

        var page = await grain.OpenPageLiveKitAsync(urlToken, null);
        Assert.True(page.IsOk, page.Problem?.Detail);
        Assert.Equal((fx.LiveKit.Url, room, $"user-{id}"), (page.Value!.Url, page.Value.Room, page.Value.Identity));
        Assert.Equal($"user-{id}", verifier.Verify(page.Value.Token).Grants.Identity);
        Assert.DoesNotContain(page.Value.Token, page.Value.ToString());
        Assert.Equal(ProblemKind.NotFound, (await grain.OpenPageLiveKitAsync(urlToken + "x", null)).Problem?.Kind);
        Assert.Equal(fx.LiveKit.Url, (await grain.OpenPageAsync(urlToken, null)).Value!.LiveKitUrl);

        var worker = await grain.GetRenderWorkerJoinAsync("w9");
        Assert.True(worker.IsOk, worker.Problem?.Detail);
        var grants = verifier.Verify(worker.Value!.Token).Grants;
        Assert.Equal(("worker-w9", TokenKinds.Agent, room), (grants.Identity, grants.Kind, grants.Video!.Room));

        await Json(await t.Http.PostAsync($"/v2/conversations/{id}/end", null));
        Assert.Equal(ProblemKind.Conflict, (await grain.OpenPageLiveKitAsync(urlToken, null)).Problem?.Kind);
        Assert.Equal(ProblemKind.Conflict, (await grain.GetRenderWorkerJoinAsync("w9")).Problem?.Kind);
    }

    [Fact]
    public async Task End_and_delete_delete_the_room()
    {
        using var t = await fx.NewTenantAsync();
        var (ended, endedRoom, _) = await CreateAsync(t);
        await Json(await t.Http.PostAsync($"/v2/conversations/{ended}/end", null));
        await fx.LiveKit.WaitForAsync("DeleteRoom", endedRoom);
        Assert.False(fx.LiveKit.Rooms.ContainsKey(endedRoom));
        Assert.Equal(VideoGrant.ForRoomCreate(), fx.LiveKit.CallsFor("DeleteRoom", endedRoom).First().Grants.Video);
        // An ended conversation shows its room but hands out no token.
        var after = await Json(await t.Http.GetAsync($"/v2/conversations/{ended}"));
        Assert.Null(after["livekit"]!["token"]);

        var (deleted, deletedRoom, _) = await CreateAsync(t);
        Assert.Equal(204, (int)(await t.Http.DeleteAsync($"/v2/conversations/{deleted}")).StatusCode);
        await fx.LiveKit.WaitForAsync("DeleteRoom", deletedRoom);
        Assert.False(fx.LiveKit.Rooms.ContainsKey(deletedRoom));
    }

    [Theory]
    [InlineData(ShutdownReasons.ParticipantAbsentTimeout)]
    [InlineData(ShutdownReasons.MaxCallDuration)]
    [InlineData(ShutdownReasons.ParticipantLeftTimeout)]
    public async Task Every_timeout_deletes_the_room(string reason)
    {
        using var t = await fx.NewTenantAsync();
        var (id, room, _) = await CreateAsync(t, ""","properties":{"participant_absent_timeout":30,"participant_left_timeout":20,"max_call_duration":120}""");
        var grain = fx.Grain(t, id);
        if (reason != ShutdownReasons.ParticipantAbsentTimeout)
        {
            await grain.JoinedAsync(PresenceRole.Participant, $"user-{id}");
        }
        if (reason == ShutdownReasons.ParticipantLeftTimeout)
        {
            await grain.LeftAsync(PresenceRole.Participant, $"user-{id}");
        }
        Assert.Empty(fx.LiveKit.CallsFor("DeleteRoom", room));
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(reason switch
        {
            ShutdownReasons.ParticipantAbsentTimeout => 30,
            ShutdownReasons.ParticipantLeftTimeout => 20,
            _ => 120,
        }));
        Assert.Equal(reason, (await EndedAsync(t, id)).ShutdownReason);
        await fx.LiveKit.WaitForAsync("DeleteRoom", room);
        Assert.False(fx.LiveKit.Rooms.ContainsKey(room));
    }

    [Fact]
    public async Task The_sweep_deletes_rooms_whose_conversation_ended_or_is_missing_and_nothing_else()
    {
        using var t = await fx.NewTenantAsync();
        var (_, liveRoom, _) = await CreateAsync(t);
        var (ended, endedRoom, _) = await CreateAsync(t);
        // The delete after ending fails, so the room outlives its conversation.
        fx.LiveKit.FailDeleteRoom = true;
        try
        {
            await Json(await t.Http.PostAsync($"/v2/conversations/{ended}/end", null));
            await fx.LiveKit.WaitForAsync("DeleteRoom", endedRoom, succeeded: false);
        }
        finally
        {
            fx.LiveKit.FailDeleteRoom = false;
        }
        Assert.True(fx.LiveKit.Rooms.ContainsKey(endedRoom));
        var orphan = $"conv.{t.Tenant.Value}.c0123456789abcdef";
        fx.LiveKit.AddRoom(orphan);
        fx.LiveKit.AddRoom("lobby-not-ours");

        var sweeper = fx.Cluster.SiloServices().GetRequiredService<LiveKitRoomSweeper>();
        await sweeper.SweepOnceAsync();

        Assert.False(fx.LiveKit.Rooms.ContainsKey(endedRoom));
        Assert.False(fx.LiveKit.Rooms.ContainsKey(orphan));
        Assert.True(fx.LiveKit.Rooms.ContainsKey(liveRoom));
        Assert.True(fx.LiveKit.Rooms.ContainsKey("lobby-not-ours"));
        Assert.Contains(fx.LiveKit.Calls, c => c.Method == "ListRooms" && c.Grants.Video == VideoGrant.ForRoomList());
    }
}
