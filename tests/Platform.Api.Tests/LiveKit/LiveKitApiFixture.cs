extern alias api;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Contracts;
using Platform.LiveKit;
using Platform.LiveKit.Tokens;
using Platform.Testing;
using Platform.Testing.LiveKit;

namespace Platform.Api.Tests.LiveKit;

/// <summary>
/// The <see cref="ApiFixture"/> stack with LiveKit configured (silo and Api) against a <see cref="FakeLiveKitServer"/>.
/// One attempt per server call, so a refused call is refused once.
/// </summary>
public sealed class LiveKitApiFixture : ApiFixture
{
    public FakeLiveKitServer LiveKit { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        LiveKit = await FakeLiveKitServer.StartAsync();
        await base.InitializeAsync();
    }

    protected override Task<PlatformCluster> StartClusterAsync() => PlatformCluster.StartAsync(configure: silo =>
    {
        AllowLoopbackWebhooks(silo);
        LiveKit.ConfigureSilo(silo);
    });

    protected override void ConfigureApi(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) => LiveKit.ConfigureApi(builder);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await LiveKit.DisposeAsync();
    }

    public IConversationGrain Grain(TenantClient t, string id) =>
        Cluster.Client.GetGrain<IConversationGrain>(new ConversationId(t.Tenant, id).ToGrainKey());

    public static string RoomOf(TenantClient t, string id) => $"conv.{t.Tenant.Value}.{id}";

    /// <summary>
    /// A LiveKit webhook event in its wire form (protobuf JSON: camelCase, defaults omitted, int64 as strings).
    /// </summary>
    public static string Event(string name, string room, string? identity = null, string? kind = null, string? id = null,
        DateTimeOffset? createdAt = null, JsonObject? track = null)
    {
        var o = new JsonObject
        {
            ["event"] = name,
            ["room"] = new JsonObject { ["sid"] = "RM_webhook0001", ["name"] = room, ["emptyTimeout"] = 300, ["creationTime"] = "1795795200" },
        };
        if (identity is not null)
        {
            var p = new JsonObject { ["sid"] = "PA_" + identity.GetHashCode().ToString("x8"), ["identity"] = identity, ["state"] = "ACTIVE", ["joinedAt"] = "1795795205" };
            if (kind is not null)
            {
                p["kind"] = kind;
            }
            o["participant"] = p;
        }
        if (track is not null)
        {
            o["track"] = track;
        }
        o["id"] = id ?? "EV_" + Guid.NewGuid().ToString("N")[..12];
        o["createdAt"] = (createdAt ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
        return o.ToJsonString();
    }

    /// <summary>The Authorization value LiveKit would send for <paramref name="body"/> (a bare JWT with its sha256).</summary>
    public static string Sign(string body, string secret = FakeLiveKitServer.ApiSecret) =>
        new LiveKitTokenIssuer(new LiveKitOptions { ApiKey = FakeLiveKitServer.ApiKey, ApiSecret = secret }).CreateWebhookToken(Encoding.UTF8.GetBytes(body));

    public async Task<HttpResponseMessage> PostWebhookAsync(string body, string? authorization)
    {
        using var client = Factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/livekit")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/webhook+json"),
        };
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }
        return await client.SendAsync(request);
    }

    /// <summary>Posts a correctly signed event and checks it was acknowledged with 200.</summary>
    public async Task DeliverAsync(string body)
    {
        var response = await PostWebhookAsync(body, Sign(body));
        Assert.True(response.IsSuccessStatusCode, $"webhook answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}

[CollectionDefinition(Name)]
public sealed class LiveKitCollection : ICollectionFixture<LiveKitApiFixture>
{
    public const string Name = "livekit";
}
