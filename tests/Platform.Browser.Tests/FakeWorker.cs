using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Platform.Testing;

namespace Platform.Browser.Tests;

/// <summary>One encoded VP8 frame (as WebCodecs' <c>VideoDecoder</c> takes it).</summary>
public sealed record Vp8Frame(bool Key, byte[] Data);

/// <summary>How the fake worker behaves on a conversation's connections.</summary>
public sealed class SessionScript
{
    /// <summary>Keep the page's audio (and video) queue this far ahead of its reported playback position; 0: send
    /// nothing by itself (the test drives the stream).</summary>
    public double AheadSeconds { get; init; } = 1.0;
}

/// <summary>
/// A stand-in for a render worker's media endpoint, speaking docs/media-protocol.md exactly: it accepts
/// <c>/sessions/{tenant}/{conversation}</c> with the <c>x-platform-media-key</c> header, answers <c>system.preview</c>
/// with a keyframe and <c>system.hello</c> with <c>system.ready</c>, streams 48 kHz PCM (a tone) and pre-encoded VP8
/// frames stamped on one media timeline, paced by the page's <c>system.playback</c> reports, and records what the page
/// sends.
/// </summary>
public sealed class FakeWorker : IAsyncDisposable
{
    public const string MediaKey = "test-media-key-7f3a";
    public const string WorkerId = "fake-worker-1";

    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, List<FakeSession>> _sessions = new();
    private readonly ConcurrentDictionary<string, SessionScript> _scripts = new();
    private readonly ConcurrentDictionary<string, long> _timeline = new();
    private int _refused;

    private FakeWorker(WebApplication app, IReadOnlyList<Vp8Frame> video)
    {
        _app = app;
        Video = video;
    }

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>The frames sent as the replica's picture (a keyframe every <see cref="KeyEvery"/>).</summary>
    public IReadOnlyList<Vp8Frame> Video { get; set; }

    public int KeyEvery { get; set; } = 30;

    /// <summary>Connections refused for a missing or wrong media key.</summary>
    public int Refused => _refused;

    public static async Task<FakeWorker> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var worker = new FakeWorker(app, []);
        app.UseWebSockets();
        app.Map("/sessions/{tenant}/{conversation}", worker.AcceptAsync);
        await app.StartAsync();
        worker.BaseUri = new Uri(app.Urls.First().Replace("http://", "ws://", StringComparison.Ordinal));
        return worker;
    }

    public void Script(string conversation, SessionScript script) => _scripts[conversation] = script;

    /// <summary>The connections for a conversation so far, oldest first.</summary>
    public IReadOnlyList<FakeSession> Sessions(string conversation)
    {
        var list = _sessions.GetOrAdd(conversation, _ => []);
        lock (list)
        {
            return [.. list];
        }
    }

    /// <summary>Waits for the conversation's <paramref name="index"/>-th connection (0-based) to say hello.</summary>
    public async Task<FakeSession> SessionAsync(string conversation, int index = 0, int timeoutMs = 15_000)
    {
        FakeSession? found = null;
        await PlatformCluster.WaitUntilAsync(() =>
        {
            var all = Sessions(conversation);
            found = all.Count > index && all[index].Hello.Task.IsCompleted ? all[index] : null;
            return Task.FromResult(found is not null);
        }, TimeSpan.FromMilliseconds(timeoutMs), $"connection #{index + 1} of {conversation} saying system.hello to the worker");
        return found!;
    }

    private async Task AcceptAsync(HttpContext http, string tenant, string conversation)
    {
        if (!http.WebSockets.IsWebSocketRequest)
        {
            http.Response.StatusCode = 400;
            return;
        }
        if (http.Request.Headers["x-platform-media-key"] != MediaKey)
        {
            Interlocked.Increment(ref _refused);
            http.Response.StatusCode = 401;
            return;
        }
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var list = _sessions.GetOrAdd(conversation, _ => []);
        var start = _timeline.GetValueOrDefault(conversation);
        FakeSession session;
        lock (list)
        {
            session = new FakeSession(this, socket, tenant, conversation, list.Count, start, _scripts.GetValueOrDefault(conversation) ?? new SessionScript());
            list.Add(session);
        }
        try
        {
            await session.RunAsync(http.RequestAborted);
        }
        finally
        {
            // A later connection (the page reconnecting) continues the same media timeline, as a resumed session does.
            _timeline[conversation] = session.NextAudioUs;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var list in _sessions.Values)
        {
            lock (list)
            {
                foreach (var s in list)
                {
                    s.Abort();
                }
            }
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>One page connection at the fake worker.</summary>
public sealed class FakeSession
{
    public const int AudioRate = 48000;
    private const int FrameSamples = 960; // 20 ms
    private const long FrameUs = 20_000;
    private const long VideoFrameUs = 33_333;

    private readonly FakeWorker _worker;
    private readonly WebSocket _socket;
    private readonly SessionScript _script;
    private readonly SemaphoreSlim _send = new(1, 1);
    private readonly ConcurrentQueue<JsonObject> _received = new();
    private readonly ConcurrentQueue<MicFrame> _mic = new();
    private readonly ConcurrentQueue<double> _playback = new();
    private readonly long _startUs;
    private long _nextVideoUs;
    private int _nextVideoIndex;
    private double _phase;
    private int _keyframeRequests;

    internal FakeSession(FakeWorker worker, WebSocket socket, string tenant, string conversation, int index, long startUs, SessionScript script)
    {
        _worker = worker;
        _socket = socket;
        Tenant = tenant;
        Conversation = conversation;
        Index = index;
        _script = script;
        _startUs = startUs;
        NextAudioUs = startUs;
        _nextVideoUs = startUs;
    }

    public string Tenant { get; }
    public string Conversation { get; }
    public int Index { get; }

    /// <summary>The page's <c>system.hello</c>.</summary>
    public TaskCompletionSource<JsonObject> Hello { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The page's <c>system.preview</c> (sent before Join): the worker answers with a keyframe.</summary>
    public TaskCompletionSource<JsonObject> Preview { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the close status when the page side closes (null: dropped without a close).</summary>
    public TaskCompletionSource<WebSocketCloseStatus?> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Media time (µs) of the next audio frame to send.</summary>
    public long NextAudioUs { get; private set; }

    /// <summary>The media time (µs) this connection's stream started at.</summary>
    public long StartUs => _startUs;

    public IReadOnlyList<JsonObject> Received => [.. _received];
    public IReadOnlyList<MicFrame> Microphone => [.. _mic];
    public IReadOnlyList<double> Playback => [.. _playback];
    public int KeyframeRequests => Volatile.Read(ref _keyframeRequests);
    public bool AudioOnly => Hello.Task.IsCompleted && Hello.Task.Result["properties"]?["audio_only"]?.GetValue<bool>() == true;

    /// <summary>A microphone message: its header fields and the RMS of its samples (full scale = 1).</summary>
    public sealed record MicFrame(int Channels, int SampleRate, int Samples, double Rms);

    internal async Task RunAsync(CancellationToken cancel)
    {
        var buffer = new byte[256 * 1024];
        try
        {
            while (true)
            {
                var count = 0;
                ValueWebSocketReceiveResult r;
                do
                {
                    r = await _socket.ReceiveAsync(buffer.AsMemory(count), cancel);
                    count += r.Count;
                }
                while (!r.EndOfMessage && r.MessageType != WebSocketMessageType.Close);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    Closed.TrySetResult(_socket.CloseStatus);
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                    }
                    return;
                }
                if (r.MessageType == WebSocketMessageType.Binary)
                {
                    OnBinary(buffer.AsSpan(0, count));
                }
                else
                {
                    await OnTextAsync(Encoding.UTF8.GetString(buffer, 0, count));
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or IOException)
        {
            Closed.TrySetResult(null);
        }
    }

    private void OnBinary(ReadOnlySpan<byte> message)
    {
        if (message.Length < 16 || message[0] != 0x03)
        {
            return;
        }
        var channels = message[1];
        var rate = (int)BinaryPrimitives.ReadUInt32LittleEndian(message[4..8]);
        var pcm = message[16..];
        var n = pcm.Length / 2;
        double sum = 0;
        for (var i = 0; i < n; i++)
        {
            var s = BinaryPrimitives.ReadInt16LittleEndian(pcm[(2 * i)..]) / 32768.0;
            sum += s * s;
        }
        _mic.Enqueue(new MicFrame(channels, rate, n, n == 0 ? 0 : Math.Sqrt(sum / n)));
    }

    private async Task OnTextAsync(string text)
    {
        JsonObject message;
        try
        {
            message = JsonNode.Parse(text)!.AsObject();
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException)
        {
            await SendErrorAsync("malformed", "not a JSON object");
            return;
        }
        _received.Enqueue(message);
        var type = message["event_type"]?.GetValue<string>();
        switch (type)
        {
            case "system.hello":
                var audioOnly = message["properties"]?["audio_only"]?.GetValue<bool>() == true;
                await SendJsonAsync(new JsonObject
                {
                    ["message_type"] = "system",
                    ["event_type"] = "system.ready",
                    ["conversation_id"] = Conversation,
                    ["properties"] = new JsonObject
                    {
                        ["audio_only"] = audioOnly,
                        ["width"] = 320,
                        ["height"] = 180,
                        ["fps"] = 30,
                        ["captions"] = true,
                        ["resumed"] = Index > 0,
                    },
                });
                Hello.TrySetResult(message);
                if (_script.AheadSeconds > 0)
                {
                    await StreamUntilAsync(_startUs + (long)(_script.AheadSeconds * 1e6));
                }
                break;
            case "system.preview":
                // The picture alone until hello: this stream's first keyframe, at the media time it starts from.
                Preview.TrySetResult(message);
                if (!AudioOnly && _worker.Video.Count > 0)
                {
                    await SendAsync(VideoMessage(_worker.Video[0], NextAudioUs), WebSocketMessageType.Binary);
                }
                break;
            case "system.playback":
                var at = message["properties"]?["media_time"]?.GetValue<double>() ?? -1;
                _playback.Enqueue(at);
                if (_script.AheadSeconds > 0)
                {
                    await StreamUntilAsync((long)((at + _script.AheadSeconds) * 1e6));
                }
                break;
            case "system.keyframe_request":
                Interlocked.Increment(ref _keyframeRequests);
                _nextVideoIndex = (_nextVideoIndex + _worker.KeyEvery - 1) / _worker.KeyEvery * _worker.KeyEvery;
                break;
            case { } t when t.StartsWith("conversation.", StringComparison.Ordinal):
                break;
            default:
                await SendErrorAsync("unknown_event", $"unknown event_type '{type}'");
                break;
        }
    }

    /// <summary>Sends audio (a quiet 440 Hz tone) and, unless the page is audio-only, video, up to <paramref name="untilUs"/>.</summary>
    public async Task StreamUntilAsync(long untilUs)
    {
        await _send.WaitAsync();
        try
        {
            while (NextAudioUs < untilUs && _socket.State == WebSocketState.Open)
            {
                while (!AudioOnly && _worker.Video.Count > 0 && _nextVideoUs <= NextAudioUs)
                {
                    var frame = _worker.Video[_nextVideoIndex % _worker.Video.Count];
                    _nextVideoIndex++;
                    await _socket.SendAsync(VideoMessage(frame, _nextVideoUs), WebSocketMessageType.Binary, true, CancellationToken.None);
                    _nextVideoUs += VideoFrameUs;
                }
                await _socket.SendAsync(AudioMessage(NextAudioUs), WebSocketMessageType.Binary, true, CancellationToken.None);
                NextAudioUs += FrameUs;
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or ObjectDisposedException)
        {
            // The page went away.
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>Moves the media timeline forward without sending (a pause in the replica's speech).</summary>
    public void SkipTo(long us)
    {
        NextAudioUs = Math.Max(NextAudioUs, us);
        _nextVideoUs = Math.Max(_nextVideoUs, us);
    }

    private byte[] AudioMessage(long us)
    {
        var message = new byte[16 + FrameSamples * 2];
        message[0] = 0x02;
        BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(8), us);
        for (var i = 0; i < FrameSamples; i++)
        {
            var s = (short)(Math.Sin(_phase) * 0.2 * short.MaxValue);
            _phase += 2 * Math.PI * 440 / AudioRate;
            BinaryPrimitives.WriteInt16LittleEndian(message.AsSpan(16 + 2 * i), s);
        }
        return message;
    }

    public static byte[] VideoMessage(Vp8Frame frame, long us, int width = 320, int height = 180)
    {
        var message = new byte[16 + frame.Data.Length];
        message[0] = 0x01;
        message[1] = (byte)(frame.Key ? 1 : 0);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(2), (ushort)width);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(4), (ushort)height);
        BinaryPrimitives.WriteInt64LittleEndian(message.AsSpan(8), us);
        frame.Data.CopyTo(message, 16);
        return message;
    }

    public Task SendJsonAsync(JsonObject message) => SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text);

    public async Task SendAsync(byte[] message, WebSocketMessageType type)
    {
        await _send.WaitAsync();
        try
        {
            await _socket.SendAsync(message, type, true, CancellationToken.None);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>A <c>conversation.*</c> out-event with the envelope fields of the protocol.</summary>
    public Task SendEventAsync(string eventType, JsonObject properties, long seq, int turn = 0) => SendJsonAsync(new JsonObject
    {
        ["message_type"] = "conversation",
        ["event_type"] = eventType,
        ["conversation_id"] = Conversation,
        ["seq"] = seq,
        ["turn_idx"] = turn,
        ["inference_id"] = null,
        ["timestamp"] = PlatformCluster.Epoch.ToString("O"),
        ["media_time"] = NextAudioUs / 1e6,
        ["properties"] = properties,
    });

    public Task SendUtteranceAsync(string role, string speech, long seq) =>
        SendEventAsync("conversation.utterance", new JsonObject { ["role"] = role, ["speech"] = speech }, seq);

    public Task SendSystemAsync(string eventType, JsonObject properties) => SendJsonAsync(new JsonObject
    {
        ["message_type"] = "system",
        ["event_type"] = eventType,
        ["conversation_id"] = Conversation,
        ["properties"] = properties,
    });

    private Task SendErrorAsync(string code, string message) =>
        SendSystemAsync("system.error", new JsonObject { ["code"] = code, ["message"] = message });

    /// <summary>The conversation ended: <c>system.ended</c>, then a normal close.</summary>
    public async Task EndAsync(string reason)
    {
        await SendSystemAsync("system.ended", new JsonObject { ["shutdown_reason"] = reason });
        await _send.WaitAsync();
        try
        {
            await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "ended", CancellationToken.None);
        }
        finally
        {
            _send.Release();
        }
    }

    /// <summary>Drops the connection without a close handshake (a killed worker).</summary>
    public void Abort() => _socket.Abort();
}
