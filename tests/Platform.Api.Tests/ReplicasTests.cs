using System.Net;
using Platform.Contracts;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class ReplicasTests(ApiFixture fx)
{
    [Fact]
    public async Task Every_tenant_has_three_distinct_stock_replicas()
    {
        using var t = await fx.NewTenantAsync();
        var list = await Json(await t.Http.GetAsync("/v2/replicas?replica_type=system"));
        var items = list["data"]!.AsArray();
        Assert.True(items.Count >= 3);
        Assert.All(items, r => Assert.Equal("completed", r!["status"]!.GetValue<string>()));
        // Distinct looks, stored on the grains for the renderer.
        var looks = new HashSet<ReplicaLook>();
        foreach (var r in items)
        {
            var info = await fx.Cluster.Client.GetGrain<IReplicaGrain>(new ReplicaId(t.Tenant, r!["replica_id"]!.GetValue<string>()).ToGrainKey()).GetAsync();
            looks.Add(info!.Look!);
        }
        Assert.Equal(items.Count, looks.Count);
    }

    [Fact]
    public async Task A_custom_replica_stays_started_and_says_why()
    {
        using var t = await fx.NewTenantAsync();
        var r = await Json(await t.Http.PostAsync("/v2/replicas", Body("""{"replica_name":"Me","train_video_url":"https://videos.example/me.mp4"}""")));
        var id = r["replica_id"]!.GetValue<string>();
        Assert.Equal("started", r["status"]!.GetValue<string>());
        Assert.Contains("not available yet", r["error_message"]!.GetValue<string>());
        var renamed = await Json(await t.Http.PatchAsync($"/v2/replicas/{id}/name", Body("""{"replica_name":"Me 2"}""")));
        Assert.Equal("Me 2", renamed["replica_name"]!.GetValue<string>());
        var users = await Json(await t.Http.GetAsync("/v2/replicas?replica_type=user"));
        Assert.Equal(1, users["total_count"]!.GetValue<int>());
        // A replica that is not trained cannot join a live conversation.
        var persona = await t.PersonaAsync();
        var problem = await Json(await t.Http.PostAsync("/v2/conversations", Body($$"""{"persona_id":"{{persona}}","replica_id":"{{id}}"}""")), 422);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("replica_id"));
        Assert.Equal(HttpStatusCode.NoContent, (await t.Http.DeleteAsync($"/v2/replicas/{id}")).StatusCode);
        await Json(await t.Http.GetAsync($"/v2/replicas/{id}"), 404);
    }

    [Theory]
    [InlineData("""{"replica_name":"x"}""", "train_video_url")]
    [InlineData("""{"train_video_url":"file:///etc/passwd"}""", "train_video_url")]
    [InlineData("""{"train_video_url":"https://a.example/v.mp4","colour":"red"}""", "colour")]
    public async Task Bad_replicas_name_the_field(string body, string field)
    {
        using var t = await fx.NewTenantAsync();
        var problem = await Json(await t.Http.PostAsync("/v2/replicas", Body(body)), 400);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }
}
