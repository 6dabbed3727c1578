extern alias api;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Platform.Contracts;
using Platform.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Silo.Webhooks;

namespace Platform.Api.Tests;

/// <summary>
/// One real cluster (silo on a fresh PostgreSQL database, our AdoNet providers) and the real Api connected to it as an
/// Orleans client, served in-process. Shared by the tests of a collection; each test makes its own tenants.
/// </summary>
public class ApiFixture : IAsyncLifetime
{
    public const string OperatorKey = "op_test_0123456789";

    public PlatformCluster Cluster { get; private set; } = null!;
    public WebApplicationFactory<api::Program> Factory { get; private set; } = null!;

    public virtual async Task InitializeAsync()
    {
        Cluster = await StartClusterAsync();
        // The Api is its own Orleans client: it finds the silo's gateway in the membership table and dials it over TCP.
        Factory = new WebApplicationFactory<api::Program>().WithWebHostBuilder(b =>
        {
            b.UseSetting("Platform:Postgres", Cluster.Options.Postgres)
                .UseSetting("Platform:ClusterId", Cluster.Options.ClusterId)
                .UseSetting("Platform:ServiceId", Cluster.Options.ServiceId)
                .UseSetting("Operator:ApiKey", OperatorKey);
            ConfigureApi(b);
        });
        _ = Factory.Server; // start the host now, so a broken start fails here with its message
    }

    /// <summary>Extra settings for the Api host (e.g. LiveKit).</summary>
    protected virtual void ConfigureApi(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
    }

    /// <summary>
    /// The cluster behind the Api: by default one silo whose render pool needs no worker. Webhook receivers in these
    /// tests listen on loopback, which production refuses (WebhookTests checks that refusal).
    /// </summary>
    protected virtual Task<PlatformCluster> StartClusterAsync() => PlatformCluster.StartAsync(configure: AllowLoopbackWebhooks);

    protected static void AllowLoopbackWebhooks(ISiloBuilder silo) => silo.Services.Configure<WebhookOptions>(o => o.AllowPrivateTargets = true);

    public virtual async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Cluster.DisposeAsync();
    }

    public HttpClient Operator()
    {
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Add("x-operator-key", OperatorKey);
        return client;
    }

    public HttpClient Anonymous() => Factory.CreateClient();

    /// <summary>A new tenant with a key; generous limits unless a plan is given.</summary>
    public async Task<TenantClient> NewTenantAsync(string? plan = null)
    {
        using var op = Operator();
        var created = await op.PostAsync("/operator/tenants", Body($$"""{"name":"T","plan":{{plan ?? """{"max_concurrent_conversations":1000,"requests_per_second":100000}"""}}}"""));
        var tenant = await Json(created, 201);
        var id = tenant["tenant_id"]!.GetValue<string>();
        var key = await Json(await op.PostAsync($"/operator/tenants/{id}/api-keys", Body("""{"name":"test"}""")), 201);
        var client = Factory.CreateClient();
        client.DefaultRequestHeaders.Add("x-api-key", key["api_key"]!.GetValue<string>());
        return new TenantClient(new TenantId(id), key["api_key"]!.GetValue<string>(), key["key_id"]!.GetValue<string>(), client)
        {
            WebhookSecret = tenant["webhook_secret"]!.GetValue<string>(),
        };
    }

    public static StringContent Body(string json) => new(json, System.Text.Encoding.UTF8, "application/json");

    /// <summary>The response body as JSON, after checking the status (the message shows the body if it differs).</summary>
    public static async Task<JsonObject> Json(HttpResponseMessage response, int status = 200)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }
}

public sealed record TenantClient(TenantId Tenant, string ApiKey, string KeyId, HttpClient Http) : IDisposable
{
    public string WebhookSecret { get; init; } = "";

    public void Dispose() => Http.Dispose();

    public async Task<string> StockReplicaAsync()
    {
        var list = await ApiFixture.Json(await Http.GetAsync("/v2/replicas?replica_type=system"));
        return list["data"]![0]!["replica_id"]!.GetValue<string>();
    }

    public async Task<string> PersonaAsync(string? layers = null)
    {
        var replica = await StockReplicaAsync();
        var body = $$"""{"persona_name":"P","system_prompt":"Be brief.","default_replica_id":"{{replica}}"{{(layers is null ? "" : $",\"layers\":{layers}")}}}""";
        var persona = await ApiFixture.Json(await Http.PostAsync("/v2/personas", ApiFixture.Body(body)));
        return persona["persona_id"]!.GetValue<string>();
    }

    public async Task<JsonObject> ConversationAsync(string persona, string extra = "")
    {
        var body = $$"""{"persona_id":"{{persona}}"{{extra}}}""";
        return await ApiFixture.Json(await Http.PostAsync("/v2/conversations", ApiFixture.Body(body)));
    }
}

[CollectionDefinition(Name)]
public sealed class ApiCollection : ICollectionFixture<ApiFixture>
{
    public const string Name = "api";
}
