using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Platform.Browser.Tests;

/// <summary>The page's HTTP surface: link checks, headers, white-labeling, and the media socket's refusals.</summary>
[Collection(BrowserCollection.Name)]
public sealed partial class PageHttpTests(BrowserFixture fx)
{
    /// <summary>Words that would give the platform (or its stack) away on a white-labeled page.</summary>
    private static readonly string[] Giveaways = ["platform", "orleans", "kestrel", "tavus", "cvi", "x-api-key"];

    [Fact]
    public async Task A_bad_link_is_a_neutral_404_page_that_does_not_say_whether_the_conversation_exists()
    {
        using var t = await fx.NewTenantAsync();
        using var other = await fx.NewTenantAsync("Other Co");
        var c = await t.ConversationAsync();
        var segments = c.PageUrl.AbsolutePath.Split('/'); // "", "c", tenant, conversation, token
        var (tenant, conversation, token) = (segments[2], segments[3], segments[4]);
        var wrongToken = new string(token.Select(ch => ch == 'a' ? 'b' : 'a').ToArray());
        using var http = fx.Http();

        var bodies = new List<string>();
        foreach (var path in (string[])[
                     $"/c/{tenant}/{conversation}/{wrongToken}",      // wrong token, same length
                     $"/c/{tenant}/{conversation}/{token[..^1]}",     // truncated
                     $"/c/{other.Id.Value}/{conversation}/{token}",   // another tenant: the key is {tenant}/{conversation}
                     $"/c/{tenant}/c0123456789abcdef/{token}",        // no such conversation
                     $"/c/not-a-tenant/{conversation}/{token}",       // malformed
                 ])
        {
            var response = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            var html = await response.Content.ReadAsStringAsync();
            Assert.Contains("This link is not valid", html, StringComparison.Ordinal);
            Assert.DoesNotContain("Northwind", html, StringComparison.Ordinal);
            bodies.Add(NonceAttribute().Replace(html, ""));
        }
        Assert.Single(bodies.Distinct());

        var good = await http.GetAsync(c.PageUrl);
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
    }

    [Fact]
    public async Task The_page_and_its_files_are_white_labeled_and_locked_down()
    {
        using var t = await fx.NewTenantAsync("Acme Care", ["https://app.acme.example", "http://localhost:3000/some/path"], "https://cdn.acme.example/brand/logo.png");
        var c = await t.ConversationAsync();
        using var http = fx.Http();
        var response = await http.GetAsync(c.PageUrl);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();

        var csp = Header(response, "Content-Security-Policy");
        Assert.Contains("frame-ancestors 'self' https://app.acme.example http://localhost:3000", csp, StringComparison.Ordinal);
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("no-store", Header(response, "Cache-Control"));
        Assert.False(response.Headers.Contains("Server"), "no Server header");
        Assert.Contains("Acme Care", html, StringComparison.Ordinal);
        Assert.Contains("<img class=\"logo\" src=\"https://cdn.acme.example/brand/logo.png\"", html, StringComparison.Ordinal);
        Assert.Contains("img-src 'self' data: https://cdn.acme.example;", csp, StringComparison.Ordinal);
        Assert.Contains("--primary:#7c3aed", html, StringComparison.Ordinal);

        // Everything the page loads, and every header, is free of the platform's name.
        var files = AssetUrl().Matches(html).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.Equal(3, files.Count); // stylesheet, script, audio worklets
        var texts = new List<(string What, string Text)> { ("page", html) };
        texts.AddRange(response.Headers.Concat(response.Content.Headers).Select(h => ($"header {h.Key}", $"{h.Key}: {string.Join(",", h.Value)}")));
        foreach (var file in files)
        {
            var asset = await http.GetAsync(WebUtility.HtmlDecode(file));
            Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
            Assert.Contains("immutable", Header(asset, "Cache-Control"), StringComparison.Ordinal);
            Assert.False(asset.Headers.Contains("Server"));
            texts.Add((file, await asset.Content.ReadAsStringAsync()));
        }
        foreach (var (what, raw) in texts)
        {
            var text = Nonce().Replace(raw, ""); // random base64 could spell anything
            foreach (var word in Giveaways)
            {
                Assert.False(text.Contains(word, StringComparison.OrdinalIgnoreCase), $"{what} contains '{word}'");
            }
        }

        // No embedding origins: only the page's own origin may frame it.
        using var plain = await fx.NewTenantAsync("Plain");
        var p = await plain.ConversationAsync();
        var plainCsp = Header(await http.GetAsync(p.PageUrl), "Content-Security-Policy");
        Assert.EndsWith("frame-ancestors 'self'", plainCsp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Branding_values_are_escaped()
    {
        using var t = await fx.NewTenantAsync("<script>alert(1)</script> & Co");
        var c = await t.ConversationAsync(new { conversation_name = "</script><img src=x onerror=alert(2)>" });
        using var http = fx.Http();
        var html = await (await http.GetAsync(c.PageUrl)).Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>alert(1)", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img src=x", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_private_call_needs_its_meeting_token_for_the_page_and_the_media_socket()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(new { require_auth = true });
        using var http = fx.Http();
        var refused = await http.GetAsync(c.PageUrl);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var html = await refused.Content.ReadAsStringAsync();
        Assert.Contains("Enter your access code", html, StringComparison.Ordinal);
        Assert.DoesNotContain("call-config", html, StringComparison.Ordinal); // nothing about the call without the token
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync(c.PageUrl + "?t=mt_wrong")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(c.PageUrl + "?t=" + c.MeetingToken)).StatusCode);

        var (status, _) = await MediaAsync(c.PageUrl + "/media");
        Assert.Equal(4403, status);
        var (wrong, _) = await MediaAsync(c.PageUrl + "/media?meeting_token=mt_wrong");
        Assert.Equal(4403, wrong);
        Assert.Empty(fx.Worker.Sessions(c.Id));
    }

    [Fact]
    public async Task The_media_socket_refuses_bad_links_reports_ended_calls_and_waits_for_a_worker()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync();
        var (bad, _) = await MediaAsync(c.PageUrl.ToString()[..^1] + "x/media");
        Assert.Equal(4404, bad);

        // test_mode conversations take no render slot: no worker runs them, so the page is told to come back later.
        var unassigned = await t.ConversationAsync(new { test_mode = true });
        var (waiting, _) = await MediaAsync(unassigned.PageUrl + "/media");
        Assert.Equal(1013, waiting);

        await BrowserFixture.Ok(await t.Http.PostAsync($"/v2/conversations/{c.Id}/end", null));
        var (ended, messages) = await MediaAsync(c.PageUrl + "/media");
        Assert.Equal(4410, ended);
        var message = Assert.Single(messages);
        Assert.Equal("system.ended", message["event_type"]!.GetValue<string>());
        Assert.Equal("end_conversation_endpoint_hit", message["properties"]!["shutdown_reason"]!.GetValue<string>());

        using var http = fx.Http();
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(c.PageUrl + "/media")).StatusCode);
    }

    [Fact]
    public async Task The_relay_presents_the_media_key_and_copies_frames_both_ways()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(new { audio_only = true });
        fx.Worker.Script(c.Id, new SessionScript { AheadSeconds = 0 });
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(WsUri(c.PageUrl + "/media"), CancellationToken.None);
        var hello = """{"message_type":"system","event_type":"system.hello","conversation_id":"x","properties":{"sample_rate":16000,"audio_only":true,"client":"test"}}""";
        await socket.SendAsync(Encoding.UTF8.GetBytes(hello), WebSocketMessageType.Text, true, CancellationToken.None);
        var session = await fx.Worker.SessionAsync(c.Id);
        Assert.Equal(16000, (await session.Hello.Task)["properties"]!["sample_rate"]!.GetValue<int>());
        var ready = await ReceiveTextAsync(socket);
        Assert.Equal("system.ready", ready["event_type"]!.GetValue<string>());

        // A microphone frame up, byte for byte; an unknown message gets system.error back and the session goes on.
        var mic = new byte[16 + 640];
        mic[0] = 0x03;
        mic[1] = 1;
        BitConverter.TryWriteBytes(mic.AsSpan(4), 16000u);
        await socket.SendAsync(mic, WebSocketMessageType.Binary, true, CancellationToken.None);
        await Platform.Testing.PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Microphone.Count == 1), TimeSpan.FromSeconds(10), "the microphone frame at the worker");
        Assert.Equal(16000, session.Microphone[0].SampleRate);
        await socket.SendAsync("""{"message_type":"system","event_type":"system.bogus"}"""u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
        var error = await ReceiveTextAsync(socket);
        Assert.Equal("system.error", error["event_type"]!.GetValue<string>());

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, await session.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(0, fx.Worker.Refused);
    }

    private async Task<(int Status, List<JsonObject> Messages)> MediaAsync(string url)
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(WsUri(url), CancellationToken.None);
        var messages = new List<JsonObject>();
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var r = await socket.ReceiveAsync(buffer, timeout.Token);
            if (r.MessageType == WebSocketMessageType.Close)
            {
                return ((int)socket.CloseStatus!, messages);
            }
            messages.Add(JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, r.Count))!.AsObject());
        }
    }

    private static async Task<JsonObject> ReceiveTextAsync(ClientWebSocket socket)
    {
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var r = await socket.ReceiveAsync(buffer, timeout.Token);
            if (r.MessageType == WebSocketMessageType.Text)
            {
                return JsonNode.Parse(Encoding.UTF8.GetString(buffer, 0, r.Count))!.AsObject();
            }
            Assert.NotEqual(WebSocketMessageType.Close, r.MessageType);
        }
    }

    private static Uri WsUri(string url) => new(url.Replace("http://", "ws://", StringComparison.Ordinal));

    private static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var v) ? string.Join(",", v)
        : response.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : "";

    [GeneratedRegex("nonce=\"[^\"]*\"")]
    private static partial Regex NonceAttribute();

    [GeneratedRegex("nonce[=-][\"]?[A-Za-z0-9+/=]+")]
    private static partial Regex Nonce();

    [GeneratedRegex("(?:href|src|\"worklet_url\":)\\s*=?\\s*\"(/c/assets/[^\"]+)\"")]
    private static partial Regex AssetUrl();
}
