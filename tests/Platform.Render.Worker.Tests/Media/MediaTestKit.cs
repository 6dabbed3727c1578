using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Render.Audio;
using Platform.Render.Speech.Flite;
using Platform.Render.Worker.Media;
using Platform.Silo.Render;
using Platform.Testing;
using Platform.Testing.LiveKit;
using Platform.Testing.OpenAi;
using Platform.Testing.Workers;

namespace Platform.Render.Worker.Tests.Media;

/// <summary>
/// Real workers with the production runner, media endpoint and engine, against a real cluster, all on the cluster's
/// fake clock: a test moves media time in 20 ms ticks and waits until each session has consumed them.
/// </summary>
internal sealed class MediaTestKit : IAsyncDisposable
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);

    private readonly List<InProcessMediaWorker> _workers = [];
    private readonly WorkerEngine _engine = new(allowPrivateEndpoints: true); // the test LLM is on loopback

    private MediaTestKit(PlatformCluster cluster, OpenAiChatServer llm)
    {
        Cluster = cluster;
        Llm = llm;
    }

    public PlatformCluster Cluster { get; }
    public OpenAiChatServer Llm { get; }
    public IGrainFactory Grains => Cluster.Client;

    /// <summary>A cluster (on LiveKit when <paramref name="liveKit"/> is given) and the test LLM.</summary>
    public static async Task<MediaTestKit> StartAsync(FakeLiveKitServer? liveKit = null)
    {
        Assert.Null(WorkerEngine.Unavailable());
        var cluster = await PlatformCluster.StartAsync(configure: s =>
        {
            s.Services.Configure<RenderPoolOptions>(o => o.RequireWorker = true);
            if (liveKit is not null)
            {
                s.Services.Configure<Platform.LiveKit.LiveKitOptions>(o =>
                {
                    o.Url = liveKit.Url;
                    o.ApiKey = FakeLiveKitServer.ApiKey;
                    o.ApiSecret = FakeLiveKitServer.ApiSecret;
                    o.MaxAttempts = 1;
                });
            }
        });
        if (liveKit is not null)
        {
            liveKit.SignalClock = cluster.Time;
        }
        var llm = await OpenAiChatServer.StartAsync(new OpenAiChatServerOptions { TimeProvider = TimeProvider.System });
        return new MediaTestKit(cluster, llm);
    }

    /// <summary>A worker: the production runner and heartbeat loop plus its media endpoint, all on the fake clock.</summary>
    public async Task<InProcessMediaWorker> StartWorkerAsync(string id, LiveKitConnector? liveKit = null, VideoEncoderFactory? encoders = null)
    {
        var worker = await InProcessMediaWorker.StartAsync(Grains, _engine, id, Cluster.Time, Cluster.Time, o => o.FramesPerSecond = 10, liveKit: liveKit, encoders: encoders);
        _workers.Add(worker);
        return worker;
    }

    /// <summary>What kill -9 looks like: the heartbeat stops and the media endpoint vanishes; nothing is drained.</summary>
    public async Task KillAsync(InProcessMediaWorker worker)
    {
        await worker.KillAsync();
        _workers.Remove(worker);
    }

    public async Task<ConversationId> ConversationAsync(string? greeting = "Hello, I am here.", string? personaExtra = null, JsonObject? properties = null)
    {
        var tenant = TenantId.New();
        await Grains.GetGrain<ITenantGrain>(tenant.ToGrainKey()).CreateAsync("T", TenantPlan.Default with { MaxConcurrentConversations = 100 });
        var persona = PersonaId.New(tenant);
        var replica = new ReplicaId(tenant, StockReplica.All[0].LocalId);
        var personaJson = $$$"""{"system_prompt":"You are a test.","default_replica_id":"{{{replica.Local}}}","layers":{"llm":{"model":"test-model","base_url":"{{{Llm.BaseUrl}}}","api_key":"sk-tenant-secret"}}{{{personaExtra}}}}""";
        var created = await Grains.GetGrain<IPersonaGrain>(persona.ToGrainKey()).CreateAsync(personaJson);
        Assert.True(created.IsOk, created.Problem?.Detail);
        var id = ConversationId.New(tenant);
        var body = new JsonObject { ["persona_id"] = persona.Local };
        if (greeting is not null)
        {
            body["custom_greeting"] = greeting;
        }
        if (properties is not null)
        {
            body["properties"] = properties;
        }
        var conversation = await Grains.GetGrain<IConversationGrain>(id.ToGrainKey()).CreateAsync(body.ToJsonString());
        Assert.True(conversation.IsOk, conversation.Problem?.Detail);
        return id;
    }

    /// <summary>Advances media time by <paramref name="duration"/> in 20 ms ticks; after each, waits until every running
    /// session has consumed it, and every 500 ms until each live worker has heartbeated.</summary>
    public async Task AdvanceAsync(TimeSpan duration, Func<int, Task>? beforeTick = null)
    {
        var ticks = (int)(duration / Tick);
        for (var i = 0; i < ticks; i++)
        {
            if (beforeTick is not null)
            {
                await beforeTick(i);
            }
            var sessions = _workers.SelectMany(w => w.Sessions).Select(s => (s, Target: s.Session.Clock + Tick)).ToList();
            var cycles = _workers.Select(w => (w, w.Worker.Cycles)).ToList();
            Cluster.Time.Advance(Tick);
            foreach (var (session, target) in sessions)
            {
                await PlatformCluster.WaitUntilAsync(() => Task.FromResult(session.Session.Clock >= target), Wait, $"session clock {target}");
            }
            // A worker's heartbeat timer fires every 500 ms from its start: wait for that exchange, so the pool never
            // sees a live worker as lost because the test moved the clock faster than the worker could answer.
            foreach (var (worker, before) in cycles.Where(c => (Cluster.Time.GetUtcNow() - c.w.StartedAt).Ticks % TimeSpan.FromMilliseconds(500).Ticks == 0))
            {
                await PlatformCluster.WaitUntilAsync(() => Task.FromResult(worker.Worker.Cycles > before), Wait, $"{worker.Worker.Info.WorkerId} heartbeat");
            }
        }
    }

    /// <summary>16 kHz mono speech in a Flite voice other than the replica's.</summary>
    public static short[] Speech(string text, string voice = "rms")
    {
        using var flite = new FliteSynthesizer(voice);
        var result = flite.Synthesize(text);
        Assert.True(result.Ok, result.Error?.ToString());
        return result.SampleRate == 16_000 ? result.Audio : new Resampler(result.SampleRate, 16_000).Process(result.Audio);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in _workers.ToList())
        {
            await KillAsync(worker);
        }
        await Llm.DisposeAsync();
        await Cluster.DisposeAsync();
        _engine.Dispose();
    }

}

/// <summary>A page's side of the media socket, recording everything it receives.</summary>
internal sealed class MediaClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket = new();
    private readonly Task _receiver;
    private readonly ConcurrentQueue<JsonObject> _messages = new();

    private MediaClient(ClientWebSocket socket)
    {
        _socket = socket;
        _receiver = Task.Run(ReceiveAsync);
    }

    public int AudioFrames;
    public int VideoFrames;
    public int Keyframes;
    public bool? FirstVideoKey; // whether the first video frame received was a keyframe
    public TimeSpan LastAudioTime;
    public double AudioEnergy;

    public IReadOnlyList<JsonObject> Messages => [.. _messages];

    public bool Closed => _receiver.IsCompleted;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>Opens the socket and says hello (or, with <paramref name="hello"/> false, nothing yet).</summary>
    public static async Task<MediaClient> ConnectAsync(string workerUrl, ConversationId conversation, string key = InProcessMediaWorker.MediaKey, bool audioOnly = false,
        bool hello = true)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader(MediaEndpoints.KeyHeader, key);
        await socket.ConnectAsync(new Uri($"{workerUrl}/sessions/{conversation.Tenant.Value}/{conversation.Local}"), CancellationToken.None);
        var client = new MediaClient(socket);
        if (hello)
        {
            await client.HelloAsync(audioOnly);
        }
        return client;
    }

    public Task HelloAsync(bool audioOnly = false) =>
        SendJsonAsync("system", "system.hello", new JsonObject { ["sample_rate"] = 16_000, ["audio_only"] = audioOnly });

    public Task SendJsonAsync(string messageType, string eventType, JsonObject properties) =>
        SendTextAsync(new JsonObject { ["message_type"] = messageType, ["event_type"] = eventType, ["properties"] = properties }.ToJsonString());

    public Task SendTextAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    public Task SendMicrophoneAsync(ReadOnlySpan<short> samples, int sampleRate = 16_000)
    {
        var message = new byte[MediaWire.HeaderSize + samples.Length * 2];
        MediaWire.WriteMicrophoneHeader(message, sampleRate, 1);
        MemoryMarshal.AsBytes(samples).CopyTo(message.AsSpan(MediaWire.HeaderSize));
        return _socket.SendAsync(message, WebSocketMessageType.Binary, true, CancellationToken.None);
    }

    public IEnumerable<JsonObject> Events(string eventType) => Messages.Where(m => m["event_type"]?.GetValue<string>() == eventType);

    public Task WaitForAsync(Func<MediaClient, bool> condition, string what) =>
        PlatformCluster.WaitUntilAsync(() => Task.FromResult(condition(this)), MediaTestKit.Wait, what);

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 20];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
                if (result.MessageType == WebSocketMessageType.Text)
                {
                    _messages.Enqueue((JsonObject)JsonNode.Parse(buffer.AsSpan(0, length))!);
                    continue;
                }
                var time = TimeSpan.FromTicks(BitConverter.ToInt64(buffer, 8) * TimeSpan.TicksPerMicrosecond);
                if (buffer[0] == MediaWire.Audio)
                {
                    var pcm = MemoryMarshal.Cast<byte, short>(buffer.AsSpan(MediaWire.HeaderSize, length - MediaWire.HeaderSize));
                    double sum = 0;
                    foreach (var s in pcm)
                    {
                        sum += (double)s * s;
                    }
                    AudioEnergy += sum / Math.Max(1, pcm.Length);
                    LastAudioTime = time;
                    Interlocked.Increment(ref AudioFrames);
                }
                else if (buffer[0] == MediaWire.Video)
                {
                    FirstVideoKey ??= (buffer[1] & 1) == 1;
                    Interlocked.Increment(ref VideoFrames);
                    if ((buffer[1] & 1) == 1)
                    {
                        Interlocked.Increment(ref Keyframes);
                    }
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // Closed without a handshake (a killed worker).
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            }
            catch (Exception e) when (e is WebSocketException or OperationCanceledException)
            {
                // The worker went away first.
            }
        }
        await _receiver;
        _socket.Dispose();
    }
}
