using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Platform.Browser.Tests;

/// <summary>
/// A tenant's own web site on a second origin: <c>/embed?src=…</c> frames the conversation page with the documented
/// snippet and collects the messages the page posts to it in <c>window.received</c>; <c>sendToCall(m)</c> posts one in.
/// </summary>
public sealed class EmbedderSite : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EmbedderSite(WebApplication app) => _app = app;

    /// <summary>The site's origin, e.g. <c>http://127.0.0.1:40111</c>.</summary>
    public string Origin { get; private set; } = "";

    public static async Task<EmbedderSite> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/embed", (string src) => Results.Content(Page(src), "text/html; charset=utf-8"));
        await app.StartAsync();
        return new EmbedderSite(app) { Origin = app.Urls.First().TrimEnd('/') };
    }

    public string EmbedUrl(Uri page) => $"{Origin}/embed?src={Uri.EscapeDataString(page.ToString())}";

    private static string Page(string src) => $$"""
        <!doctype html>
        <html><head><meta charset="utf-8"><title>Partner site</title></head>
        <body style="font-family: sans-serif; background: #f4f4f5; margin: 16px">
        <h2>Our clinic — talk to our assistant</h2>
        <iframe id="call" src="{{WebUtility.HtmlEncode(src)}}" allow="microphone; autoplay" width="900" height="560" style="border:0;border-radius:12px"></iframe>
        <script>
          window.received = [];
          window.addEventListener('message', (e) => window.received.push({ origin: e.origin, data: e.data }));
          window.sendToCall = (m) => {
            const frame = document.getElementById('call');
            frame.contentWindow.postMessage(m, new URL(frame.src).origin);
          };
        </script>
        </body></html>
        """;

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
