extern alias api;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Platform.Contracts;
using Platform.Testing;

namespace Platform.Browser.Tests;

/// <summary>
/// Everything a browser test needs, started once per run: a real cluster (silo on a fresh PostgreSQL database), the
/// real Api served by Kestrel on a loopback port (a browser needs a socket), a fake render worker registered with the
/// render pool and named in the Api's <c>Media</c> settings, a second origin that embeds the page, and Debian's
/// Chromium driven by Playwright with a fake microphone playing a spoken WAV.
/// </summary>
public class BrowserFixture : IAsyncLifetime
{
    public const string OperatorKey = "op_browser_0123456789";
    public const string ChromiumPath = "/usr/bin/chromium";

    public PlatformCluster Cluster { get; private set; } = null!;
    public WebApplicationFactory<api::Program> Factory { get; private set; } = null!;
    public FakeWorker Worker { get; private set; } = null!;
    public EmbedderSite Embedder { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    /// <summary>The Api's origin, e.g. <c>http://127.0.0.1:41234</c>.</summary>
    public Uri ApiBase { get; private set; } = null!;

    /// <summary>Where screenshots go (the repository's git-ignored <c>artifacts/browser</c>).</summary>
    public string Artifacts { get; } = Path.Combine(RepositoryRoot(), "artifacts", "browser");

    public virtual async Task InitializeAsync()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run infra/install.sh (install.d/50-chromium.sh).");
        Directory.CreateDirectory(Artifacts);
        var wav = Path.Combine(Path.GetTempPath(), $"fake-mic-{Environment.ProcessId}.wav");
        await FakeMicrophone.WriteAsync(wav);

        Cluster = await StartClusterAsync();
        Worker = await FakeWorker.StartAsync();
        Factory = new WebApplicationFactory<api::Program>().WithWebHostBuilder(b => ConfigureApi(b
            .UseSetting("Platform:Postgres", Cluster.Options.Postgres)
            .UseSetting("Platform:ClusterId", Cluster.Options.ClusterId)
            .UseSetting("Platform:ServiceId", Cluster.Options.ServiceId)
            .UseSetting("Operator:ApiKey", OperatorKey)
            .UseSetting("Media:Key", FakeWorker.MediaKey)
            .UseSetting($"Media:Workers:{FakeWorker.WorkerId}", Worker.BaseUri.ToString())));
        Factory.UseKestrel(0);
        Factory.StartServer();
        var address = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        ApiBase = new Uri(address.Replace("[::1]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal));

        // The fake worker takes every conversation (the pool's clock is logical, so it never goes silent).
        await Cluster.Client.GetGrain<IRenderPoolGrain>(RenderPool.Key)
            .RegisterAsync(new RenderWorkerInfo(FakeWorker.WorkerId, 1000, RenderDevice.Cpu, "fake", "test"));

        Embedder = await EmbedderSite.StartAsync();
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await LaunchChromiumAsync(Playwright, wav);
        Microsoft.Playwright.Assertions.SetDefaultExpectTimeout(15_000);
        Worker.Video = await Vp8Encoder.EncodeAsync(Browser, ApiBase, frames: 60, keyEvery: Worker.KeyEvery);
    }

    /// <summary>Debian's Chromium, headless, with the flags the closed network needs and a fake microphone playing
    /// <paramref name="wav"/> once (from when the page opens the device).</summary>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright, string wav) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                $"--use-file-for-fake-audio-capture={wav}%noloop",
                "--autoplay-policy=user-gesture-required",
            ],
        });

    public virtual async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        Playwright?.Dispose();
        if (Embedder is not null) await Embedder.DisposeAsync();
        if (Factory is not null) await Factory.DisposeAsync();
        if (Worker is not null) await Worker.DisposeAsync();
        if (Cluster is not null) await Cluster.DisposeAsync();
    }

    /// <summary>The cluster the Api talks to (a subclass configures its silo).</summary>
    protected virtual Task<PlatformCluster> StartClusterAsync() => PlatformCluster.StartAsync();

    /// <summary>Extra Api settings of a subclass.</summary>
    protected virtual void ConfigureApi(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
    }

    /// <summary>An HTTP client for the Api (real socket).</summary>
    public HttpClient Http(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = ApiBase };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("x-api-key", apiKey);
        }
        return client;
    }

    /// <summary>A new tenant with an API key, its branding set, and a persona on a stock replica.</summary>
    public async Task<Tenant> NewTenantAsync(string displayName = "Northwind Health", IReadOnlyList<string>? embedOrigins = null, string? logoUrl = null)
    {
        using var op = Http();
        op.DefaultRequestHeaders.Add("x-operator-key", OperatorKey);
        var tenant = await Ok(await op.PostAsJsonAsync("/operator/tenants", new { name = "Tenant " + displayName, plan = new { max_concurrent_conversations = 1000, requests_per_second = 100000 } }), 201);
        var id = tenant["tenant_id"]!.GetValue<string>();
        var key = await Ok(await op.PostAsJsonAsync($"/operator/tenants/{id}/api-keys", new { name = "browser" }), 201);
        await Ok(await op.PutAsJsonAsync($"/operator/tenants/{id}/branding", new
        {
            display_name = displayName,
            logo_url = logoUrl,
            primary_color = "#7c3aed",
            accent_color = "#f59e0b",
            embed_origins = embedOrigins ?? [],
        }));
        var http = Http(key["api_key"]!.GetValue<string>());
        var replicas = await Ok(await http.GetAsync("/v2/replicas?replica_type=system"));
        var replica = replicas["data"]![0]!["replica_id"]!.GetValue<string>();
        var persona = await Ok(await http.PostAsJsonAsync("/v2/personas", new { persona_name = "Guide", system_prompt = "Be brief.", default_replica_id = replica }));
        return new Tenant(this, new TenantId(id), http, persona["persona_id"]!.GetValue<string>());
    }

    public static async Task<JsonObject> Ok(HttpResponseMessage response, int status = 200)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>Saves a screenshot of <paramref name="page"/> as a test artifact.</summary>
    public async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Artifacts, name + ".png") });

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln")))
            {
                return dir.FullName;
            }
        }
        return Path.GetTempPath();
    }
}

/// <summary>A tenant of a browser test with its API client and persona.</summary>
public sealed record Tenant(BrowserFixture Fixture, TenantId Id, HttpClient Http, string Persona) : IDisposable
{
    /// <summary>Creates a conversation; answers its id and the page URL on the Api's real origin.</summary>
    public async Task<Conversation> ConversationAsync(object? extra = null)
    {
        var body = new JsonObject { ["persona_id"] = Persona };
        if (extra is not null)
        {
            foreach (var (k, v) in System.Text.Json.JsonSerializer.SerializeToNode(extra)!.AsObject())
            {
                body[k] = v?.DeepClone();
            }
        }
        var created = await BrowserFixture.Ok(await Http.PostAsync("/v2/conversations", new StringContent(body.ToJsonString(), System.Text.Encoding.UTF8, "application/json")));
        var url = new Uri(created["conversation_url"]!.GetValue<string>());
        return new Conversation(
            created["conversation_id"]!.GetValue<string>(),
            new Uri(Fixture.ApiBase, url.AbsolutePath),
            created["meeting_token"]?.GetValue<string>());
    }

    public void Dispose() => Http.Dispose();
}

/// <summary>A conversation as a browser test uses it.</summary>
public sealed record Conversation(string Id, Uri PageUrl, string? MeetingToken);

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "browser";
}

/// <summary>The fake microphone: Flite says a sentence, after a short silence, as a 16 kHz mono WAV.</summary>
public static class FakeMicrophone
{
    public static async Task WriteAsync(string path, string text = "Hello, can you hear me? I would like to book an appointment for next week, please.",
        double leadSeconds = 0.25, string voice = "kal")
    {
        var speech = path + ".speech.wav";
        var flite = Process.Start(new ProcessStartInfo("flite", ["-voice", voice, "-t", text, "-o", speech])
        {
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException("flite did not start: run infra/install.sh (install.d/20-speech.sh).");
        await flite.WaitForExitAsync();
        Assert.True(flite.ExitCode == 0, $"flite failed: {await flite.StandardError.ReadToEndAsync()}");
        var (rate, samples) = Wav.ReadMono16(await File.ReadAllBytesAsync(speech));
        File.Delete(speech);
        var lead = new short[(int)(rate * leadSeconds)];
        var tail = new short[rate / 4];
        await File.WriteAllBytesAsync(path, Wav.Mono16(rate, [.. lead, .. samples, .. tail]));
    }
}

/// <summary>Minimal 16-bit mono PCM WAV reading and writing.</summary>
public static class Wav
{
    public static (int Rate, short[] Samples) ReadMono16(byte[] wav)
    {
        var rate = BitConverter.ToInt32(wav, 24);
        var channels = BitConverter.ToInt16(wav, 22);
        Assert.Equal(1, channels);
        var pos = 12;
        while (pos + 8 <= wav.Length)
        {
            var id = System.Text.Encoding.ASCII.GetString(wav, pos, 4);
            var size = BitConverter.ToInt32(wav, pos + 4);
            if (id == "data")
            {
                var samples = new short[Math.Min(size, wav.Length - pos - 8) / 2];
                Buffer.BlockCopy(wav, pos + 8, samples, 0, samples.Length * 2);
                return (rate, samples);
            }
            pos += 8 + size + (size & 1);
        }
        throw new InvalidDataException("no data chunk");
    }

    public static byte[] Mono16(int rate, short[] samples)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write("RIFF"u8);
        w.Write(36 + samples.Length * 2);
        w.Write("WAVEfmt "u8);
        w.Write(16);
        w.Write((short)1);
        w.Write((short)1);
        w.Write(rate);
        w.Write(rate * 2);
        w.Write((short)2);
        w.Write((short)16);
        w.Write("data"u8);
        w.Write(samples.Length * 2);
        foreach (var s in samples)
        {
            w.Write(s);
        }
        w.Flush();
        return ms.ToArray();
    }
}
