using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Platform.Testing;
using Platform.Testing.LiveKit;
using static Microsoft.Playwright.Assertions;

namespace Platform.Browser.Tests;

/// <summary>
/// The browser suite's stack with LiveKit configured (silo and Api) against a <see cref="FakeLiveKitServer"/> that
/// records the signalling requests it gets (and refuses them with 503, as a LiveKit with no media node would): every
/// conversation is then on LiveKit, and its page joins the room with livekit-client.
/// </summary>
public sealed class LiveKitBrowserFixture : BrowserFixture
{
    public FakeLiveKitServer LiveKit { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        LiveKit = await FakeLiveKitServer.StartAsync();
        await base.InitializeAsync();
        LiveKit.SignalClock = Cluster.Time; // tokens are minted on the cluster's logical clock
    }

    protected override Task<PlatformCluster> StartClusterAsync() => PlatformCluster.StartAsync(configure: LiveKit.ConfigureSilo);

    protected override void ConfigureApi(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder) => LiveKit.ConfigureApi(builder);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (LiveKit is not null) await LiveKit.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class LiveKitBrowserCollection : ICollectionFixture<LiveKitBrowserFixture>
{
    public const string Name = "browser-livekit";
}

/// <summary>The page of a conversation on LiveKit in Chromium: it loads livekit-client and joins with our token.</summary>
[Collection(LiveKitBrowserCollection.Name)]
public sealed class LiveKitPageTests(LiveKitBrowserFixture fx, Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task The_page_loads_livekit_client_asks_for_its_join_and_signals_the_room_with_that_token()
    {
        using var tenant = await fx.NewTenantAsync();
        var conversation = await tenant.ConversationAsync();
        await using var context = await fx.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, m) => { lock (console) console.Add(m.Text); };
        page.PageError += (_, e) => { lock (console) console.Add("pageerror: " + e); };
        var joins = new List<IResponse>();
        page.Response += (_, r) => { if (r.Url.Split('?')[0].EndsWith("/livekit", StringComparison.Ordinal)) lock (joins) joins.Add(r); };

        var response = await page.GotoAsync(conversation.PageUrl.ToString());
        var csp = response!.Headers["content-security-policy"];
        var lk = new Uri(fx.LiveKit.Url);
        Assert.Contains($"connect-src 'self' ws://{lk.Authority} http://{lk.Authority};", csp, StringComparison.Ordinal);
        Assert.True(await page.EvaluateAsync<bool>("typeof window.LivekitClient?.Room === 'function'"), "livekit-client did not load");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "prejoin");

        await page.ClickAsync("#notice-action");
        var identity = $"user-{conversation.Id}";
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(fx.LiveKit.Signals.Any(s => s.Grants?.Identity == identity)), Deadline,
            "a signalling request with the page's token");

        // The page's join came from our endpoint, uncached, and its token is the one LiveKit was shown.
        IResponse join;
        lock (joins) join = joins[0];
        Assert.Equal("POST", join.Request.Method);
        Assert.Equal(200, join.Status);
        Assert.Equal("no-store", join.Headers["cache-control"]);
        var body = JsonNode.Parse(await join.TextAsync())!.AsObject();
        Assert.Equal(fx.LiveKit.Url, body["url"]!.GetValue<string>());
        Assert.Equal(identity, body["identity"]!.GetValue<string>());
        var signal = fx.LiveKit.Signals.First(s => s.Grants?.Identity == identity);
        output.WriteLine("signalling: " + string.Join(", ", fx.LiveKit.Signals.Select(s => $"{s.Path} {s.Grants?.Identity} → {s.AnsweredStatus}")));
        Assert.StartsWith("/rtc", signal.Path, StringComparison.Ordinal);
        Assert.Equal(body["token"]!.GetValue<string>(), signal.AccessToken);
        Assert.Equal(body["room"]!.GetValue<string>(), signal.Grants!.Video!.Room);
        Assert.True(signal.Grants.Video.RoomJoin);

        // LiveKit refusing (no media node) is a retry, not an error: the page waits and asks for a fresh join again.
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", new Regex("^(connecting|waiting)$"));
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(Count(joins) >= 2), Deadline, "a second join after the refusal");
        lock (console) Assert.DoesNotContain(console, m => m.Contains("Content Security Policy", StringComparison.Ordinal) || m.StartsWith("pageerror", StringComparison.Ordinal));

        // Leaving stops asking.
        await page.ClickAsync("#leave");
        await Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", "left");
    }

    [Fact]
    public async Task A_conversation_that_ended_gives_the_page_no_join_and_a_bad_link_gets_the_neutral_404()
    {
        using var tenant = await fx.NewTenantAsync();
        var conversation = await tenant.ConversationAsync();
        using var http = new HttpClient { BaseAddress = fx.ApiBase };
        var path = conversation.PageUrl.AbsolutePath + "/livekit";

        var ok = await http.PostAsync(path, null);
        Assert.Equal(200, (int)ok.StatusCode);
        var bad = await http.PostAsync(path[..^"/livekit".Length] + "x/livekit", null);
        Assert.Equal(404, (int)bad.StatusCode);
        Assert.Equal("Not found", await bad.Content.ReadAsStringAsync());

        await BrowserFixture.Ok(await tenant.Http.PostAsync($"/v2/conversations/{conversation.Id}/end", null));
        var ended = await http.PostAsync(path, null);
        Assert.Equal(409, (int)ended.StatusCode);
        Assert.Equal("application/problem+json", ended.Content.Headers.ContentType?.MediaType);
    }

    private static int Count(List<IResponse> list)
    {
        lock (list) return list.Count;
    }
}
