using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Contracts;

namespace Platform.Api.Pages;

/// <summary>Close codes the page acts on (besides 1000 and the codes a worker sends itself).</summary>
public static class MediaCloseCodes
{
    /// <summary>The worker went away or the Api is stopping: reconnect now (with back-off).</summary>
    public const WebSocketCloseStatus Reconnect = (WebSocketCloseStatus)1012;
    /// <summary>No worker runs the conversation yet (or it cannot be reached): reconnect later.</summary>
    public const WebSocketCloseStatus TryAgainLater = (WebSocketCloseStatus)1013;
    /// <summary>The conversation needs its meeting token.</summary>
    public const WebSocketCloseStatus MeetingTokenRequired = (WebSocketCloseStatus)4403;
    /// <summary>The link is not valid (the same for a missing conversation and a wrong token).</summary>
    public const WebSocketCloseStatus BadLink = (WebSocketCloseStatus)4404;
    /// <summary>The conversation has ended (a <c>system.ended</c> message came first).</summary>
    public const WebSocketCloseStatus Ended = (WebSocketCloseStatus)4410;
}

/// <summary>
/// The embedded transport's hop through the Api (docs/media-protocol.md): accepts the page's socket, checks the link
/// (and meeting token) with the conversation grain, opens a socket to the worker that runs the conversation and copies
/// frames both ways, byte for byte, until either side closes; then closes the other with the same status.
/// </summary>
internal sealed partial class MediaRelay(
    IGrainFactory grains,
    IMediaEndpointResolver resolver,
    IOptionsMonitor<MediaOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<MediaRelay> logger)
{
    private const int BufferSize = 64 * 1024;
    private static readonly TimeSpan CloseGrace = TimeSpan.FromSeconds(5);

    public async Task RunAsync(HttpContext http, ConversationId id, string urlToken, string? meetingToken)
    {
        var opened = await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).OpenPageAsync(urlToken, meetingToken);
        using var browser = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext { KeepAliveInterval = TimeSpan.FromSeconds(15) });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        if (opened.Value is not { } page)
        {
            await CloseQuietlyAsync(browser, MediaCloseCodes.BadLink, "link not valid");
            return;
        }
        if (!page.Authorized)
        {
            await CloseQuietlyAsync(browser, MediaCloseCodes.MeetingTokenRequired, "meeting token required");
            return;
        }
        if (page.Status == ConversationStatus.Ended)
        {
            await SendEndedAsync(browser, page);
            return;
        }
        var target = await resolver.ResolveAsync(id, stop.Token);
        if (target is null)
        {
            await CloseQuietlyAsync(browser, MediaCloseCodes.TryAgainLater, "waiting for the replica");
            return;
        }
        using var worker = new ClientWebSocket();
        var o = options.CurrentValue;
        if (!string.IsNullOrEmpty(o.Key))
        {
            worker.Options.SetRequestHeader(MediaOptions.KeyHeader, o.Key);
        }
        worker.Options.KeepAliveInterval = TimeSpan.FromSeconds(15);
        try
        {
            using var connect = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
            connect.CancelAfter(o.ConnectTimeout);
            await worker.ConnectAsync(target, connect.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or HttpRequestException)
        {
            LogWorkerUnreachable(id.ToGrainKey(), target.GetLeftPart(UriPartial.Authority), e.Message);
            await CloseQuietlyAsync(browser, MediaCloseCodes.TryAgainLater, "waiting for the replica");
            return;
        }
        LogRelayOpened(id.ToGrainKey(), target.GetLeftPart(UriPartial.Authority));
        await RelayAsync(browser, worker, stop.Token);
        LogRelayClosed(id.ToGrainKey());
    }

    /// <summary>Copies both ways; when one side closes (or fails) the other is closed with the same (or a reconnect)
    /// status, and the closing handshake gets a few seconds before both are aborted.</summary>
    private static async Task RelayAsync(WebSocket browser, WebSocket worker, CancellationToken stop)
    {
        using var abort = new CancellationTokenSource();
        var up = PumpAsync(browser, worker, MediaCloseCodes.Reconnect, abort.Token);
        var down = PumpAsync(worker, browser, MediaCloseCodes.Reconnect, abort.Token);
        var stopped = Task.Delay(Timeout.Infinite, stop);
        var first = await Task.WhenAny(up, down, stopped);
        if (first == stopped)
        {
            // The page's request ended or the Api is stopping: tell both to go elsewhere.
            await CloseQuietlyAsync(browser, MediaCloseCodes.Reconnect, "reconnect");
            await CloseQuietlyAsync(worker, WebSocketCloseStatus.NormalClosure, "client gone");
        }
        var both = Task.WhenAll(up, down);
        if (await Task.WhenAny(both, Task.Delay(CloseGrace, CancellationToken.None)) != both)
        {
            abort.Cancel();
        }
        try
        {
            await both;
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Forwards every frame from <paramref name="source"/> to <paramref name="target"/> (its only writer); on
    /// a close from the source, closes the target with the same status; on a failure, with <paramref name="onFailure"/>.</summary>
    private static async Task PumpAsync(WebSocket source, WebSocket target, WebSocketCloseStatus onFailure, CancellationToken abort)
    {
        var buffer = new byte[BufferSize];
        try
        {
            while (true)
            {
                var r = await source.ReceiveAsync(buffer, abort);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    var status = source.CloseStatus is { } s && Sendable(s) ? s : WebSocketCloseStatus.NormalClosure;
                    await CloseQuietlyAsync(target, status, source.CloseStatusDescription);
                    return;
                }
                await target.SendAsync(buffer.AsMemory(0, r.Count), r.MessageType, r.EndOfMessage, abort);
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
            await CloseQuietlyAsync(target, onFailure, "reconnect");
        }
    }

    private static bool Sendable(WebSocketCloseStatus status) => (int)status is (>= 1000 and <= 1003) or (>= 1007 and <= 1014) or (>= 3000 and <= 4999);

    private static async Task SendEndedAsync(WebSocket browser, ConversationPage page)
    {
        var ended = new JsonObject
        {
            ["message_type"] = "system",
            ["event_type"] = "system.ended",
            ["conversation_id"] = page.Id.Local,
            ["properties"] = new JsonObject { ["shutdown_reason"] = page.ShutdownReason },
        };
        try
        {
            await browser.SendAsync(Encoding.UTF8.GetBytes(ended.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            return;
        }
        await CloseQuietlyAsync(browser, MediaCloseCodes.Ended, page.ShutdownReason);
    }

    private static async Task CloseQuietlyAsync(WebSocket socket, WebSocketCloseStatus status, string? description)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return;
        }
        try
        {
            // Close descriptions are limited to 123 bytes.
            var text = description is { Length: > 60 } ? description[..60] : description;
            using var timeout = new CancellationTokenSource(CloseGrace);
            await socket.CloseOutputAsync(status, text, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // Already gone (or a send is in flight at shutdown: the abort below ends it).
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Media relay for {Conversation} opened to worker {Worker}")]
    private partial void LogRelayOpened(string conversation, string worker);

    [LoggerMessage(Level = LogLevel.Information, Message = "Media relay for {Conversation} closed")]
    private partial void LogRelayClosed(string conversation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Media relay for {Conversation}: worker {Worker} unreachable: {Error}")]
    private partial void LogWorkerUnreachable(string conversation, string worker, string error);
}
