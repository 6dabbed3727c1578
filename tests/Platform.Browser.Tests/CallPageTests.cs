using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Platform.Testing;
using static Microsoft.Playwright.Assertions;

namespace Platform.Browser.Tests;

/// <summary>The conversation page in Chromium against the real Api and cluster, with the fake worker behind the relay.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CallPageTests(BrowserFixture fx)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private async Task<(IBrowserContext Context, IPage Page, List<string> Console)> OpenAsync(Uri url, Action<IPage>? before = null)
    {
        var context = await fx.Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1024, Height = 700 } });
        var page = await context.NewPageAsync();
        var console = new List<string>();
        page.Console += (_, m) => { lock (console) console.Add(m.Text); };
        page.PageError += (_, e) => { lock (console) console.Add("pageerror: " + e); };
        before?.Invoke(page);
        await page.GotoAsync(url.ToString());
        return (context, page, console);
    }

    private static Task ExpectStateAsync(IPage page, string state) =>
        Expect(page.Locator("body")).ToHaveAttributeAsync("data-state", state);

    private static async Task JoinAsync(IPage page)
    {
        await ExpectStateAsync(page, "prejoin");
        await page.ClickAsync("#notice-action");
    }

    [Fact]
    public async Task Join_plays_the_replica_with_video_synced_to_audio_and_reports_playback()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(new { properties = new { enable_closed_captions = true } });
        var (context, page, console) = await OpenAsync(c.PageUrl);
        await using var _ = context;
        await Expect(page.Locator(".brand")).ToHaveTextAsync("Northwind Health");
        await fx.ScreenshotAsync(page, "prejoin");
        await JoinAsync(page);

        var session = await fx.Worker.SessionAsync(c.Id);
        var hello = (await session.Hello.Task)["properties"]!;
        Assert.Equal(48000, hello["sample_rate"]!.GetValue<int>());
        Assert.False(hello["audio_only"]!.GetValue<bool>());
        Assert.Equal(t.Id.Value, session.Tenant);
        await ExpectStateAsync(page, "live");

        // The audio clock advances and the page reports it (≤ 250 ms apart while audio plays).
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Playback.Count > 0 && session.Playback[^1] - session.Playback[0] >= 1.5),
            Deadline, "playback reports advancing by 1.5 s of media time");
        var reports = session.Playback;
        Assert.True(reports.Zip(reports.Skip(1)).All(p => p.Second >= p.First), $"playback reports go forward: {string.Join(", ", reports)}");

        // Frames are drawn, the picture changes, and the frame shown is the one due at the audio clock, not the newest
        // received (the worker sends video a second ahead of playback).
        var canvas = page.Locator("#video");
        await Expect(canvas).ToBeVisibleAsync();
        var first = await PixelAsync(page);
        await PlatformCluster.WaitUntilAsync(async () => await PixelAsync(page) != first, Deadline, "the picture changing");
        var shown = double.Parse((await canvas.GetAttributeAsync("data-media-time"))!, System.Globalization.CultureInfo.InvariantCulture);
        var played = session.Playback[^1];
        var sent = session.NextAudioUs / 1e6;
        Assert.True(shown <= played + 0.3, $"frame at {shown:F3} s shown while audio played {played:F3} s (sent up to {sent:F3} s)");
        Assert.True(shown >= played - 0.5, $"frame at {shown:F3} s lags audio at {played:F3} s");

        // Captions show both sides.
        await session.SendUtteranceAsync("user", "What time do you open tomorrow?", 1);
        await session.SendUtteranceAsync("replica", "We open at eight in the morning.", 2);
        await Expect(page.Locator(".caption.from-user")).ToContainTextAsync("What time do you open tomorrow?");
        await Expect(page.Locator(".caption.from-replica")).ToContainTextAsync("We open at eight in the morning.");
        await fx.ScreenshotAsync(page, "live-video-captions");

        Assert.DoesNotContain(console, m => m.Contains("platform", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(console, m => m.StartsWith("pageerror", StringComparison.Ordinal));
    }

    private static Task<string> PixelAsync(IPage page) => page.EvaluateAsync<string>(
        "() => { const c = document.getElementById('video'); const d = c.getContext('2d').getImageData(c.width / 2, c.height / 4, 1, 1).data; return d.join(','); }");
}
