using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.LiveKit;
using Platform.LiveKit.Tokens;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests.LiveKit;

/// <summary>
/// Avatar mode through the API: <c>properties.livekit_ws_url</c> and <c>properties.livekit_room_token</c> (the tenant's
/// own LiveKit server and a token they minted for our worker) make a conversation whose worker joins their room.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed class AvatarModeTests(ApiFixture fx)
{
    private const string TenantLiveKit = Platform.Testing.LiveKit.TenantLiveKit.Url;

    /// <summary>A token as the tenant's LiveKit server would mint it with their own key (as LiveKit's avatar plugins do).</summary>
    private string TenantToken(Func<TokenGrants, TokenGrants>? change = null, TimeSpan? lifetime = null) =>
        Platform.Testing.LiveKit.TenantLiveKit.Token(fx.Cluster.Time, change, lifetime);

    private static string Avatar(string token, string url = TenantLiveKit) =>
        $$""","properties":{"livekit_ws_url":"{{url}}","livekit_room_token":"{{token}}","max_call_duration":600}""";

    [Fact]
    public async Task The_worker_gets_the_tenants_room_and_token_and_nothing_returns_or_stores_the_token()
    {
        using var t = await fx.NewTenantAsync();
        var token = TenantToken();
        var body = await t.ConversationAsync(await t.PersonaAsync(), Avatar(token));
        var id = body["conversation_id"]!.GetValue<string>();
        var grain = fx.Cluster.Client.GetGrain<IConversationGrain>(new ConversationId(t.Tenant, id).ToGrainKey());

        // The worker's join is the tenant's: their URL, room, identity and token, valid until the token expires.
        var join = await grain.GetRenderWorkerJoinAsync("w1");
        Assert.True(join.IsOk, join.Problem?.Detail);
        Assert.Equal((TenantLiveKit, "support-room-42", "avatar-worker", token), (join.Value!.Url, join.Value.Room, join.Value.Identity, join.Value.Token));
        Assert.Equal(fx.Cluster.Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds(), join.Value.ExpiresAt.ToUnixTimeSeconds());

        // The session renders the agent's speech in that room.
        var spec = (await grain.GetSessionSpecAsync()).Value!;
        Assert.Equal(("support-room-42", "agent-7"), (spec.LiveKitRoom, spec.AvatarAgent));
        Assert.True(spec.IsAvatar && spec.OnLiveKit);

        // The token is never given back, nor kept in the clear; the URL is shown.
        var read = await Json(await t.Http.GetAsync($"/v2/conversations/{id}?verbose=true"));
        foreach (var answer in new[] { body, read })
        {
            Assert.DoesNotContain(token, answer.ToJsonString(), StringComparison.Ordinal);
            Assert.Equal(TenantLiveKit, answer["properties"]!["livekit_ws_url"]!.GetValue<string>());
            Assert.Null(answer["properties"]!["livekit_room_token"]);
        }
        var dump = await SecretsTests.DumpAsync(fx);
        Assert.Contains(id, dump);
        Assert.DoesNotContain(token, dump, StringComparison.Ordinal);
        Assert.DoesNotContain(token.Split('.')[2], dump, StringComparison.Ordinal); // not even its signature

        // No page: the end users are in the tenant's room (the link answers as a bad one does).
        var urlToken = body["conversation_url"]!.GetValue<string>().Split('/')[^1];
        Assert.Equal(ProblemKind.NotFound, (await grain.OpenPageAsync(urlToken, null)).Problem?.Kind);

        // Ended: the worker gets nothing more.
        await Json(await t.Http.PostAsync($"/v2/conversations/{id}/end", null));
        Assert.Equal(ProblemKind.Conflict, (await grain.GetRenderWorkerJoinAsync("w1")).Problem?.Kind);
    }

    [Fact]
    public async Task An_expired_token_gives_the_worker_a_conflict_not_a_dead_join()
    {
        using var t = await fx.NewTenantAsync();
        var body = await t.ConversationAsync(await t.PersonaAsync(), Avatar(TenantToken(lifetime: TimeSpan.FromMinutes(2))));
        var grain = fx.Cluster.Client.GetGrain<IConversationGrain>(new ConversationId(t.Tenant, body["conversation_id"]!.GetValue<string>()).ToGrainKey());
        Assert.True((await grain.GetRenderWorkerJoinAsync("w1")).IsOk);
        fx.Cluster.Time.Advance(TimeSpan.FromMinutes(3));
        var late = await grain.GetRenderWorkerJoinAsync("w1");
        Assert.Equal(ProblemKind.Conflict, late.Problem?.Kind);
        Assert.Contains("expired", late.Problem!.Detail, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadAvatars => new()
    {
        { "url without token", ""","properties":{"livekit_ws_url":"wss://lk.example"}""", "properties.livekit_room_token" },
        { "token without url", ""","properties":{"livekit_room_token":"a.b.c"}""", "properties.livekit_ws_url" },
        { "not a websocket url", ""","properties":{"livekit_ws_url":"ftp://lk.example","livekit_room_token":"TOKEN"}""", "properties.livekit_ws_url" },
        { "not a JWT", ""","properties":{"livekit_ws_url":"wss://lk.example","livekit_room_token":"not-a-token"}""", "properties.livekit_room_token" },
    };

    [Theory]
    [MemberData(nameof(BadAvatars))]
    public async Task Malformed_avatar_properties_are_refused_naming_the_field(string what, string extra, string field)
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync();
        var response = await t.Http.PostAsync("/v2/conversations", Body($$"""{"persona_id":"{{persona}}"{{extra.Replace("TOKEN", TenantToken())}}}"""));
        var problem = await Json(response, 422);
        Assert.True(problem.ToJsonString().Contains(field, StringComparison.Ordinal), $"{what}: {problem}");
        Assert.Equal(0, (await Json(await t.Http.GetAsync("/v2/conversations")))["total_count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("no room join", "roomJoin")]
    [InlineData("a standard participant", "kind 'agent'")]
    [InlineData("no agent to publish for", "lk.publish_on_behalf")]
    [InlineData("publishing forbidden", "publishing")]
    [InlineData("expired", "expired")]
    public async Task A_token_that_cannot_do_the_job_is_refused_saying_why(string what, string says)
    {
        using var t = await fx.NewTenantAsync();
        var token = what switch
        {
            "no room join" => TenantToken(g => g with { Video = new VideoGrant { Room = "r" } }),
            "a standard participant" => TenantToken(g => g with { Kind = TokenKinds.Standard }),
            "no agent to publish for" => TenantToken(g => g with { Attributes = new Dictionary<string, string>() }),
            "publishing forbidden" => TenantToken(g => g with { Video = g.Video! with { CanPublish = false } }),
            _ => TenantToken(lifetime: TimeSpan.FromSeconds(1)),
        };
        if (what == "expired") fx.Cluster.Time.Advance(TimeSpan.FromSeconds(5));
        var response = await t.Http.PostAsync("/v2/conversations", Body($$"""{"persona_id":"{{await t.PersonaAsync()}}"{{Avatar(token)}}}"""));
        var problem = (await Json(response, 422)).ToJsonString(new System.Text.Json.JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Assert.Contains("properties.livekit_room_token", problem, StringComparison.Ordinal);
        Assert.Contains(says, problem, StringComparison.Ordinal);
        Assert.DoesNotContain(token, problem, StringComparison.Ordinal);
    }
}
