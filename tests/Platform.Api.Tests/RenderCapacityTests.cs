using Microsoft.Extensions.DependencyInjection;
using Platform.Contracts;
using Platform.Silo.Render;
using Platform.Testing;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

/// <summary>The Api over a cluster whose render pool requires a worker, as in production.</summary>
public sealed class RenderApiFixture : ApiFixture
{
    protected override Task<PlatformCluster> StartClusterAsync() =>
        PlatformCluster.StartAsync(configure: s => { AllowLoopbackWebhooks(s); s.Services.Configure<RenderPoolOptions>(o => o.RequireWorker = true); });
}

public sealed class RenderCapacityTests(RenderApiFixture fx) : IClassFixture<RenderApiFixture>
{
    [Fact]
    public async Task No_render_capacity_is_a_503_with_Retry_After_and_leaves_nothing_behind()
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync();
        var pool = fx.Cluster.Client.GetGrain<IRenderPoolGrain>(RenderPool.Key);

        // No worker at all.
        var none = await t.Http.PostAsync("/v2/conversations", Body($$"""{"persona_id":"{{persona}}"}"""));
        var problem = await Json(none, 503);
        Assert.Equal(TimeSpan.FromSeconds(5), none.Headers.RetryAfter?.Delta);
        Assert.Contains("render worker", problem["detail"]!.GetValue<string>());

        // One worker with one slot: the first conversation takes it, the second is refused, test_mode needs none.
        await pool.RegisterAsync(new RenderWorkerInfo("api-w", 1, RenderDevice.Cpu, "onnx-cpu", "test"));
        var first = await t.ConversationAsync(persona);
        var full = await t.Http.PostAsync("/v2/conversations", Body($$"""{"persona_id":"{{persona}}"}"""));
        await Json(full, 503);
        Assert.Equal(TimeSpan.FromSeconds(5), full.Headers.RetryAfter?.Delta);
        var idempotent = new HttpRequestMessage(HttpMethod.Post, "/v2/conversations") { Content = Body($$"""{"persona_id":"{{persona}}"}""") };
        idempotent.Headers.Add("Idempotency-Key", "retry-me");
        await Json(await t.Http.SendAsync(idempotent), 503);
        await t.ConversationAsync(persona, ""","test_mode":true""");

        var list = await Json(await t.Http.GetAsync("/v2/conversations?limit=100"));
        Assert.Equal(2, list["total_count"]!.GetValue<int>());
        var tenant = await fx.Cluster.Client.GetGrain<ITenantGrain>(t.Tenant.ToGrainKey()).GetAsync();
        Assert.Equal(2, tenant!.ActiveConversations);

        // Ending the first frees the slot; the same Idempotency-Key now succeeds (a refusal is not remembered).
        var firstId = first["conversation_id"]!.GetValue<string>();
        await Json(await t.Http.PostAsync($"/v2/conversations/{firstId}/end", null));
        var retry = new HttpRequestMessage(HttpMethod.Post, "/v2/conversations") { Content = Body($$"""{"persona_id":"{{persona}}"}""") };
        retry.Headers.Add("Idempotency-Key", "retry-me");
        var second = await Json(await t.Http.SendAsync(retry));
        Assert.Equal("api-w", await pool.WorkerOfAsync(new ConversationId(t.Tenant, second["conversation_id"]!.GetValue<string>())));
        await pool.LeaveAsync("api-w");
    }
}
