extern alias api;
using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;
using Platform.Contracts;
using Platform.Render.Worker.Media;
using Platform.Silo.Render;
using Platform.Silo.Webhooks;
using Platform.Testing;
using Platform.Testing.OpenAi;
using Platform.Testing.Workers;

namespace Platform.Browser.Tests;

/// <summary>
/// A whole call on one machine: the real cluster and Api, two real render workers in this process (the production
/// runner, engine and media endpoint; sessions paced by the wall clock), the shared OpenAI-compatible test server as
/// the tenant's LLM, a webhook receiver, and Chromium whose fake microphone says one sentence after a pause long enough
/// for the greeting. The pool's clock is the cluster's fake clock, driven forward in step with the wall clock, so a
/// killed worker is declared lost as it would be in production.
/// </summary>
public sealed class LiveCallFixture : IAsyncLifetime
{
    public const string UserSentence = "I would like to book an appointment for next week.";
    public const string Greeting = "Hello! How can I help you today?";
    public const string Answer = "Sure, next week works. Which day suits you?";

    private readonly CancellationTokenSource _clock = new();
    private readonly WorkerEngine _engine = new(allowPrivateEndpoints: true); // the test LLM is on loopback
    private Task _clockDriver = Task.CompletedTask;
    private WebApplication? _callbacks;

    public PlatformCluster Cluster { get; private set; } = null!;
    public OpenAiChatServer Llm { get; private set; } = null!;
    public List<InProcessMediaWorker> Workers { get; } = [];
    public WebApplicationFactory<api::Program> Factory { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public Uri ApiBase { get; private set; } = null!;
    public string CallbackUrl { get; private set; } = "";

    /// <summary>Webhook deliveries received, in arrival order.</summary>
    public ConcurrentQueue<JsonObject> Callbacks { get; } = new();

    public string Artifacts { get; } = Path.Combine(BrowserFixture.RepositoryRoot(), "artifacts", "browser");

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(BrowserFixture.ChromiumPath), $"{BrowserFixture.ChromiumPath} is missing: run infra/install.sh.");
        Assert.Null(WorkerEngine.Unavailable());
        Directory.CreateDirectory(Artifacts);
        var wav = Path.Combine(Path.GetTempPath(), $"live-mic-{Environment.ProcessId}.wav");
        await FakeMicrophone.WriteAsync(wav, UserSentence, leadSeconds: 7.0, voice: "rms");

        Cluster = await PlatformCluster.StartAsync(configure: s =>
        {
            s.Services.Configure<RenderPoolOptions>(o => o.RequireWorker = true);
            s.Services.Configure<WebhookOptions>(o => o.AllowPrivateTargets = true);
        });
        _clockDriver = Task.Run(DriveClockAsync);
        Llm = await OpenAiChatServer.StartAsync(new OpenAiChatServerOptions { Responder = _ => ChatScript.Reply(Answer) });
        for (var i = 0; i < 2; i++)
        {
            Workers.Add(await InProcessMediaWorker.StartAsync(Cluster.Client, _engine, $"live-{i}", Cluster.Time, TimeProvider.System,
                o => o.MaxSessions = 4, encoders: VideoEncoders.Vp8));
        }
        Factory = new WebApplicationFactory<api::Program>().WithWebHostBuilder(b => b
            .UseSetting("Platform:Postgres", Cluster.Options.Postgres)
            .UseSetting("Platform:ClusterId", Cluster.Options.ClusterId)
            .UseSetting("Platform:ServiceId", Cluster.Options.ServiceId)
            .UseSetting("Operator:ApiKey", BrowserFixture.OperatorKey)
            .UseSetting("Media:Key", InProcessMediaWorker.MediaKey));
        Factory.UseKestrel(0);
        Factory.StartServer();
        var address = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        ApiBase = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        await StartCallbackReceiverAsync();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await BrowserFixture.LaunchChromiumAsync(Playwright, wav);
    }

    /// <summary>Keeps the pool's fake clock in step with the wall clock (heartbeats, loss detection, timeouts).</summary>
    private async Task DriveClockAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await timer.WaitForNextTickAsync(_clock.Token))
            {
                Cluster.Time.Advance(TimeSpan.FromMilliseconds(50));
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task StartCallbackReceiverAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _callbacks = builder.Build();
        _callbacks.MapPost("/hook", async (HttpContext http) =>
        {
            var body = await JsonNode.ParseAsync(http.Request.Body);
            Callbacks.Enqueue(body!.AsObject());
            return Results.Ok();
        });
        await _callbacks.StartAsync();
        CallbackUrl = _callbacks.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";
    }

    public HttpClient Http(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = ApiBase };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("x-api-key", apiKey);
        }
        return client;
    }

    /// <summary>A tenant with a persona whose LLM is the test server; returns its API client and persona id.</summary>
    public async Task<(HttpClient Http, string Persona)> TenantAsync()
    {
        using var op = Http();
        op.DefaultRequestHeaders.Add("x-operator-key", BrowserFixture.OperatorKey);
        var tenant = await BrowserFixture.Ok(await op.PostAsJsonAsync("/operator/tenants", new { name = "Live", plan = new { max_concurrent_conversations = 100, requests_per_second = 1000 } }), 201);
        var id = tenant["tenant_id"]!.GetValue<string>();
        var key = await BrowserFixture.Ok(await op.PostAsJsonAsync($"/operator/tenants/{id}/api-keys", new { name = "live" }), 201);
        await BrowserFixture.Ok(await op.PutAsJsonAsync($"/operator/tenants/{id}/branding", new { display_name = "Contoso Clinic", primary_color = "#0f766e" }));
        var http = Http(key["api_key"]!.GetValue<string>());
        var replicas = await BrowserFixture.Ok(await http.GetAsync("/v2/replicas?replica_type=system"));
        var replica = replicas["data"]![0]!["replica_id"]!.GetValue<string>();
        var persona = await BrowserFixture.Ok(await http.PostAsJsonAsync("/v2/personas", new
        {
            persona_name = "Receptionist",
            system_prompt = "You are a clinic receptionist.",
            default_replica_id = replica,
            layers = new { llm = new { model = "clinic-model", base_url = Llm.BaseUrl.ToString(), api_key = "sk-clinic" } },
        }));
        return (http, persona["persona_id"]!.GetValue<string>());
    }

    public async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, name + ".png") });

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (Factory is not null) await Factory.DisposeAsync();
        foreach (var worker in Workers)
        {
            await worker.DisposeAsync();
        }
        await _clock.CancelAsync();
        await _clockDriver;
        if (_callbacks is not null) await _callbacks.DisposeAsync();
        if (Llm is not null) await Llm.DisposeAsync();
        if (Cluster is not null) await Cluster.DisposeAsync();
        _engine.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class LiveCallCollection : ICollectionFixture<LiveCallFixture>
{
    public const string Name = "live-call";
}
