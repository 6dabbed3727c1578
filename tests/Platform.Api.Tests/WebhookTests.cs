using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Platform.Contracts;
using Platform.Silo.Webhooks;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

/// <summary>Callbacks to callback_url: CVI envelope, order, HMAC signature, retries, delivery log, SSRF refusal.</summary>
[Collection(ApiCollection.Name)]
public sealed class WebhookTests(ApiFixture fx)
{
    /// <summary>A loopback HTTP server that records callbacks and can fail the first attempts.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        public ConcurrentQueue<(string Body, IHeaderDictionary Headers)> Received { get; } = new();
        public int FailFirst { get; set; }
        private int _seen;

        private Receiver(WebApplication app) => _app = app;
        public string Url => _app.Urls.First() + "/hook";

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hook", async (HttpRequest request) =>
            {
                var body = await new StreamReader(request.Body).ReadToEndAsync();
                if (Interlocked.Increment(ref receiver._seen) <= receiver.FailFirst)
                {
                    return Results.StatusCode(500);
                }
                receiver.Received.Enqueue((body, new HeaderDictionary(request.Headers.ToDictionary(h => h.Key, h => h.Value))));
                return Results.Ok();
            });
            await app.StartAsync();
            return receiver;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }

    private async Task WaitForAsync(Receiver receiver, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (receiver.Received.Count < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{count} callbacks did not arrive; got {receiver.Received.Count}");
            fx.Cluster.Time.Advance(TimeSpan.FromSeconds(1)); // the dispatcher runs on the logical clock
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task Callbacks_arrive_in_order_signed_in_the_cvi_envelope()
    {
        await using var receiver = await Receiver.StartAsync();
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(await t.PersonaAsync(), $$$""","callback_url":"{{{receiver.Url}}}" """);
        var id = c["conversation_id"]!.GetValue<string>();
        var grain = fx.Cluster.Client.GetGrain<IConversationGrain>(new ConversationId(t.Tenant, id).ToGrainKey());
        await grain.JoinedAsync(PresenceRole.Replica, "worker-1");
        await Json(await t.Http.PostAsync($"/v2/conversations/{id}/end", null));
        await WaitForAsync(receiver, 3);

        var received = receiver.Received.ToList();
        var bodies = received.Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToList();
        Assert.Equal(["system.replica_joined", "system.shutdown", "application.transcription_ready"], bodies.Select(b => b["event_type"]!.GetValue<string>()));
        Assert.All(bodies, b => Assert.Equal(id, b["conversation_id"]!.GetValue<string>()));
        Assert.Equal(["system", "system", "application"], bodies.Select(b => b["message_type"]!.GetValue<string>()));
        Assert.Equal(ShutdownReasons.EndEndpoint, bodies[1]["properties"]!["shutdown_reason"]!.GetValue<string>());
        Assert.NotNull(bodies[2]["properties"]!["transcript"]!.AsArray());
        Assert.True(bodies.Select(b => b["seq"]!.GetValue<long>()).SequenceEqual(bodies.Select(b => b["seq"]!.GetValue<long>()).Order()));
        foreach (var (body, headers) in received)
        {
            var timestamp = long.Parse(headers[WebhookSignature.TimestampHeader]!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(WebhookSignature.Verify(t.WebhookSecret, timestamp, body, headers[WebhookSignature.SignatureHeader]!), "signature verifies with the tenant's secret");
            Assert.False(WebhookSignature.Verify("whsec_wrong", timestamp, body, headers[WebhookSignature.SignatureHeader]!));
            Assert.StartsWith("whd_", headers[WebhookSignature.IdHeader].ToString());
        }
    }

    [Fact]
    public async Task Failed_attempts_are_retried_with_backoff_and_logged()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.FailFirst = 2;
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(await t.PersonaAsync(), $$$""","callback_url":"{{{receiver.Url}}}" """);
        var id = new ConversationId(t.Tenant, c["conversation_id"]!.GetValue<string>());
        await fx.Cluster.Client.GetGrain<IConversationGrain>(id.ToGrainKey()).JoinedAsync(PresenceRole.Replica, "w");
        await WaitForAsync(receiver, 1);
        var outbox = new WebhookOutbox(Npgsql.NpgsqlDataSource.Create(fx.Cluster.Options.Postgres));
        var log = await outbox.LogAsync(id);
        var entry = Assert.Single(log);
        Assert.Equal(("system.replica_joined", "delivered", 3, 200), (entry.EventType, entry.Status, entry.Attempts, entry.LastStatus));
    }

    [Fact]
    public async Task Private_and_loopback_targets_are_refused_unless_allowed()
    {
        await using var receiver = await Receiver.StartAsync();
        using var refusing = new HttpClient(SafeHttp.CreateHandler(allowPrivate: false));
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => refusing.PostAsync(receiver.Url, new StringContent("{}")));
        Assert.Contains("private, loopback or link-local", refused.Message + refused.InnerException?.Message);
        var byName = receiver.Url.Replace("127.0.0.1", "localhost", StringComparison.Ordinal);
        await Assert.ThrowsAsync<HttpRequestException>(() => refusing.PostAsync(byName, new StringContent("{}")));
        using var allowing = new HttpClient(SafeHttp.CreateHandler(allowPrivate: true));
        Assert.Equal(HttpStatusCode.OK, (await allowing.PostAsync(receiver.Url, new StringContent("{}"))).StatusCode);
        foreach (var address in new[] { "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "::1", "fe80::1", "fd00::1", "0.0.0.0", "100.64.0.1" })
        {
            Assert.True(SafeHttp.IsPrivate(IPAddress.Parse(address)), address);
        }
        Assert.False(SafeHttp.IsPrivate(IPAddress.Parse("93.184.216.34")));
    }
}
