using System.Net;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class AuthTests(ApiFixture fx)
{
    [Fact]
    public async Task Missing_and_wrong_keys_are_401_problems()
    {
        using var anon = fx.Anonymous();
        var missing = await Json(await anon.GetAsync("/v2/personas"), 401);
        Assert.True(missing["errors"]!.AsObject().ContainsKey("x-api-key"));
        anon.DefaultRequestHeaders.Add("x-api-key", "pk_" + new string('0', 64));
        await Json(await anon.GetAsync("/v2/personas"), 401);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_at_once_and_last_use_is_recorded()
    {
        using var t = await fx.NewTenantAsync();
        await Json(await t.Http.GetAsync("/v2/personas"));
        using var op = fx.Operator();
        var keys = await Json(await op.GetAsync($"/operator/tenants/{t.Tenant}/api-keys"));
        var key = keys["data"]!.AsArray().Single()!;
        Assert.NotNull(key["last_used_at"]);
        Assert.Null(key["api_key"]);
        Assert.StartsWith(key["prefix"]!.GetValue<string>(), t.ApiKey);
        Assert.Equal(HttpStatusCode.NoContent, (await op.DeleteAsync($"/operator/tenants/{t.Tenant}/api-keys/{t.KeyId}")).StatusCode);
        await Json(await t.Http.GetAsync("/v2/personas"), 401);
        var after = await Json(await op.GetAsync($"/operator/tenants/{t.Tenant}/api-keys"));
        Assert.NotNull(after["data"]![0]!["revoked_at"]);
    }

    [Fact]
    public async Task The_operator_api_needs_its_own_credential()
    {
        using var t = await fx.NewTenantAsync();
        using var withTenantKey = fx.Anonymous();
        withTenantKey.DefaultRequestHeaders.Add("x-operator-key", t.ApiKey);
        await Json(await withTenantKey.GetAsync("/operator/tenants"), 401);
        using var op = fx.Operator();
        var tenant = await Json(await op.GetAsync($"/operator/tenants/{t.Tenant}"));
        Assert.Equal(t.Tenant.Value, tenant["tenant_id"]!.GetValue<string>());
        var plan = await Json(await op.PutAsync($"/operator/tenants/{t.Tenant}/plan", Body("""{"max_concurrent_conversations":7,"price_per_minute":0.25}""")));
        Assert.Equal(7, plan["plan"]!["max_concurrent_conversations"]!.GetValue<int>());
        Assert.Equal(0.25m, plan["plan"]!["price_per_minute"]!.GetValue<decimal>());
        var bad = await Json(await op.PutAsync($"/operator/tenants/{t.Tenant}/plan", Body("""{"requests_per_second":0}""")), 400);
        Assert.True(bad["errors"]!.AsObject().ContainsKey("requests_per_second"));
        var branding = await Json(await op.PutAsync($"/operator/tenants/{t.Tenant}/branding", Body("""{"display_name":"Acme","primary_color":"#112233","embed_origins":["https://acme.example"]}""")));
        Assert.Equal("Acme", branding["branding"]!["display_name"]!.GetValue<string>());
        await Json(await op.PutAsync($"/operator/tenants/{t.Tenant}/branding", Body("""{"primary_color":"red"}""")), 400);
        var list = await Json(await op.GetAsync("/operator/tenants?limit=100"));
        Assert.Contains(list["data"]!.AsArray(), x => x!["tenant_id"]!.GetValue<string>() == t.Tenant.Value);
        await Json(await op.GetAsync("/operator/tenants/tn_doesnotexist"), 404);
    }
}

[Collection(ApiCollection.Name)]
public sealed class OpenApiTests(ApiFixture fx)
{
    [Fact]
    public async Task The_document_describes_request_bodies_from_the_validating_shapes()
    {
        using var anon = fx.Anonymous();
        var doc = await Json(await anon.GetAsync("/openapi/v1.json"));
        var persona = doc["paths"]!["/v2/personas"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!;
        var patience = persona["properties"]!["layers"]!["properties"]!["conversational_flow"]!["properties"]!["turn_taking_patience"]!;
        Assert.Equal(["low", "medium", "high"], patience["enum"]!.AsArray().Select(v => v!.GetValue<string>()));
        Assert.True(persona["properties"]!["layers"]!["properties"]!["llm"]!["properties"]!["api_key"]!["writeOnly"]!.GetValue<bool>());
        var conversation = doc["paths"]!["/v2/conversations"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!;
        Assert.Equal(false, conversation["additionalProperties"]?.GetValue<bool>());
        Assert.NotNull(conversation["properties"]!["properties"]!["properties"]!["max_call_duration"]);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, (await fx.Factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false }).GetAsync("/docs")).StatusCode);
    }
}
