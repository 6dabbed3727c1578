using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class IdempotencyTests(ApiFixture fx)
{
    private static HttpRequestMessage Create(string key, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v2/conversations") { Content = Body(body) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    [Fact]
    public async Task A_retry_returns_the_same_conversation_and_a_different_body_is_refused()
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync();
        var body = $$"""{"persona_id":"{{persona}}","conversation_name":"A"}""";
        var first = await Json(await t.Http.SendAsync(Create("k-1", body)));
        // Same meaning, different member order and spacing.
        var retry = await Json(await t.Http.SendAsync(Create("k-1", $$"""{ "conversation_name":"A", "persona_id":"{{persona}}" }""")));
        Assert.Equal(first["conversation_id"]!.GetValue<string>(), retry["conversation_id"]!.GetValue<string>());
        var other = await Json(await t.Http.SendAsync(Create("k-1", $$"""{"persona_id":"{{persona}}","conversation_name":"B"}""")), 422);
        Assert.True(other["errors"]!.AsObject().ContainsKey("Idempotency-Key"));
        var list = await Json(await t.Http.GetAsync("/v2/conversations"));
        Assert.Equal(1, list["total_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Keys_are_scoped_per_tenant()
    {
        using var a = await fx.NewTenantAsync();
        using var b = await fx.NewTenantAsync();
        var ca = await Json(await a.Http.SendAsync(Create("shared", $$"""{"persona_id":"{{await a.PersonaAsync()}}"}""")));
        var cb = await Json(await b.Http.SendAsync(Create("shared", $$"""{"persona_id":"{{await b.PersonaAsync()}}"}""")));
        Assert.NotEqual(ca["conversation_id"]!.GetValue<string>(), cb["conversation_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Concurrent_duplicates_create_one_conversation()
    {
        using var t = await fx.NewTenantAsync();
        var body = $$$"""{"persona_id":"{{{await t.PersonaAsync()}}}"}""";
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => t.Http.SendAsync(Create("burst", body))));
        var ids = new HashSet<string>();
        foreach (var r in responses)
        {
            ids.Add((await Json(r))["conversation_id"]!.GetValue<string>());
        }
        Assert.Single(ids);
        Assert.Equal(1, (await Json(await t.Http.GetAsync("/v2/conversations")))["total_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Records_expire_after_24_hours()
    {
        using var t = await fx.NewTenantAsync();
        var body = $$$"""{"persona_id":"{{{await t.PersonaAsync()}}}","properties":{"max_call_duration":14400,"participant_absent_timeout":3600}}""";
        var first = await Json(await t.Http.SendAsync(Create("day", body)));
        fx.Cluster.Time.Advance(TimeSpan.FromHours(24) + TimeSpan.FromSeconds(1));
        var later = await Json(await t.Http.SendAsync(Create("day", body)));
        Assert.NotEqual(first["conversation_id"]!.GetValue<string>(), later["conversation_id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_malformed_key_is_refused()
    {
        using var t = await fx.NewTenantAsync();
        var problem = await Json(await t.Http.SendAsync(Create(new string('k', 300), "{}")), 400);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("Idempotency-Key"));
    }
}
