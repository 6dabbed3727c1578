using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Render.Worker;
using Platform.Render.Worker.Media;

namespace Platform.Testing.Workers;

/// <summary>
/// A real render worker inside the test process: the production <see cref="RenderWorker"/> loop (heartbeats on
/// <paramref name="poolTime"/>), the production <see cref="MediaSessionRunner"/> (sessions paced by
/// <paramref name="mediaTime"/>) and the production media endpoint on a loopback port. <see cref="KillAsync"/> is what
/// kill -9 looks like to everyone else: heartbeats stop, sockets drop, nothing is drained.
/// </summary>
public sealed class InProcessMediaWorker : IAsyncDisposable
{
    public const string MediaKey = "test-media-key";

    private readonly WebApplication _app;
    private readonly CancellationTokenSource _life = new();
    private Task _loop = Task.CompletedTask;
    private bool _killed;

    private InProcessMediaWorker(RenderWorker worker, MediaSessionRunner runner, WebApplication app, string url, DateTimeOffset startedAt)
    {
        Worker = worker;
        Runner = runner;
        _app = app;
        Url = url;
        StartedAt = startedAt;
    }

    public RenderWorker Worker { get; }
    public MediaSessionRunner Runner { get; }

    /// <summary>The media endpoint (<c>ws://127.0.0.1:port</c>).</summary>
    public string Url { get; }

    /// <summary>When its heartbeat loop started, on the pool's clock.</summary>
    public DateTimeOffset StartedAt { get; }

    public IEnumerable<LiveSession> Sessions => Worker.Running.Select(Runner.Find).OfType<LiveSession>();

    public static async Task<InProcessMediaWorker> StartAsync(IGrainFactory grains, WorkerEngine engine, string id, TimeProvider poolTime,
        TimeProvider mediaTime, Action<RenderOptions>? configure = null, ILoggerFactory? loggers = null, VideoEncoderFactory? encoders = null,
        LiveKitConnector? liveKit = null)
    {
        var settings = new RenderOptions { WorkerId = id, MaxSessions = 4, VideoWidth = 320, VideoHeight = 180, FramesPerSecond = 15, MediaKey = MediaKey };
        configure?.Invoke(settings);
        var options = Options.Create(settings);
        loggers ??= NullLoggerFactory.Instance;
        var runner = new MediaSessionRunner(grains, options, engine, mediaTime, loggers, encoders, liveKit);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(runner);
        builder.Services.AddSingleton(options);
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.UseWebSockets();
        app.MapMediaEndpoints();
        await app.StartAsync();
        var url = KestrelMediaAddress.ToWebSocket(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var worker = new RenderWorker(grains, runner, options, poolTime, loggers.CreateLogger<RenderWorker>(), new FixedAddress(url));
        var host = new InProcessMediaWorker(worker, runner, app, url, poolTime.GetUtcNow());
        host._loop = worker.RunAsync(host._life.Token);
        await PlatformCluster.WaitUntilAsync(() => Task.FromResult(worker.Cycles > 0), TimeSpan.FromSeconds(30), $"{id} registered");
        return host;
    }

    /// <summary>Stops everything at once, without a drain or a goodbye.</summary>
    public async Task KillAsync()
    {
        if (_killed)
        {
            return;
        }
        _killed = true;
        await _life.CancelAsync();
        await _loop;
        await _app.StopAsync(CancellationToken.None);
        await Runner.DisposeAsync();
        await _app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _life.Dispose();
    }

    private sealed class FixedAddress(string url) : IWorkerMediaAddress
    {
        public Task<string> GetAsync(CancellationToken cancellationToken) => Task.FromResult(url);
    }
}
