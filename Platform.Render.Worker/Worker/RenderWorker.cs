using System.Reflection;
using Microsoft.Extensions.Options;
using Platform.Contracts;

namespace Platform.Render.Worker;

/// <summary>
/// The worker's side of the pool protocol. It registers, then heartbeats every <see cref="RenderOptions.HeartbeatPeriod"/>
/// (on its <see cref="TimeProvider"/>); each answer is the full set of conversations it must run, and it reconciles
/// towards it through <see cref="ISessionRunner"/>: starts what is new (or was re-assigned), stops what is gone. On
/// stop it drains: tells the pool (no new work), keeps heartbeating while its conversations finish, and after
/// <see cref="RenderOptions.DrainTimeout"/> stops the rest and leaves, so the pool moves them to other workers.
/// </summary>
public sealed partial class RenderWorker : BackgroundService
{
    private readonly IGrainFactory _grains;
    private readonly ISessionRunner _runner;
    private readonly RenderOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RenderWorker> _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IWorkerMediaAddress? _media;
    private readonly Dictionary<ConversationId, SessionAssignment> _sessions = [];
    private volatile bool _draining;
    private long _cycles;

    public RenderWorker(IGrainFactory grains, ISessionRunner runner, IOptions<RenderOptions> options, TimeProvider time, ILogger<RenderWorker> logger,
        IWorkerMediaAddress? media = null)
    {
        _media = media;
        _grains = grains;
        _runner = runner;
        _options = options.Value;
        _time = time;
        _logger = logger;
        var version = typeof(RenderWorker).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
        Info = new RenderWorkerInfo(_options.WorkerId!, _options.MaxSessions, _options.Device, _options.RendererBackend, version);
    }

    /// <summary>What this worker tells the pool about itself.</summary>
    public RenderWorkerInfo Info { get; private set; }

    /// <summary>Conversations running here now.</summary>
    public IReadOnlyList<ConversationId> Running
    {
        get
        {
            lock (_sessions)
            {
                return [.. _sessions.Keys];
            }
        }
    }

    /// <summary>Completed exchanges with the pool (each followed by its reconciliation), failed ones included.</summary>
    public long Cycles => Interlocked.Read(ref _cycles);

    /// <summary>True once it has started draining.</summary>
    public bool Draining => _draining;

    private IRenderPoolGrain Pool => _grains.GetGrain<IRenderPoolGrain>(RenderPool.Key);

    /// <summary>A wall-clock bound on one pool call, so a pool that is moving (its silo died) does not stall the loop.</summary>
    private TimeSpan CallTimeout => TimeSpan.FromSeconds(5);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => RunAsync(stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await DrainAsync(cancellationToken);
    }

    /// <summary>Registers and heartbeats until <paramref name="cancellationToken"/> fires. Cancelling it without
    /// <see cref="DrainAsync"/> is what a crash looks like to the pool.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Created before the first call: a tick that comes while a call is in flight is kept, not lost.
        if (_media is not null)
        {
            // The media endpoint is known once the server listens; the pool must have it before pages arrive.
            Info = Info with { MediaUrl = await _media.GetAsync(cancellationToken) };
        }
        using var timer = new PeriodicTimer(_options.HeartbeatPeriod, _time);
        LogStarting(Info.WorkerId, Info.MaxSessions, Info.Device, Info.RendererBackend);
        var registered = false;
        try
        {
            do
            {
                try
                {
                    var reply = registered
                        ? await Pool.HeartbeatAsync(new WorkerHeartbeat(Info, Running, _draining)).WaitAsync(CallTimeout, cancellationToken)
                        : await Pool.RegisterAsync(Info).WaitAsync(CallTimeout, cancellationToken);
                    if (!registered)
                    {
                        LogRegistered(Info.WorkerId, reply.Sessions.Count);
                        if (reply.LostAfter < _options.HeartbeatPeriod * 2)
                        {
                            LogPeriodTooLong(_options.HeartbeatPeriod.TotalMilliseconds, reply.LostAfter.TotalMilliseconds);
                        }
                    }
                    registered = true;
                    await ReconcileAsync(reply.Sessions, cancellationToken);
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                {
                    LogHeartbeatFailed(e);
                }
                Interlocked.Increment(ref _cycles);
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    /// <summary>Stops taking work, waits (heartbeating) for the conversations to end for up to
    /// <see cref="RenderOptions.DrainTimeout"/> or until <paramref name="cancellationToken"/>, then stops what is left
    /// and leaves the pool, which moves those conversations to other workers.</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        using var timer = new PeriodicTimer(_options.HeartbeatPeriod, _time);
        var deadline = _time.GetUtcNow() + _options.DrainTimeout;
        LogDraining(Info.WorkerId, Running.Count, _options.DrainTimeout.TotalSeconds);
        try
        {
            var reply = await Pool.DrainAsync(Info.WorkerId).WaitAsync(CallTimeout, cancellationToken);
            await ReconcileAsync(reply.Sessions, cancellationToken);
            Interlocked.Increment(ref _cycles);
            while (Running.Count > 0 && _time.GetUtcNow() < deadline && await timer.WaitForNextTickAsync(cancellationToken))
            {
                reply = await Pool.HeartbeatAsync(new WorkerHeartbeat(Info, Running, Draining: true)).WaitAsync(CallTimeout, cancellationToken);
                await ReconcileAsync(reply.Sessions, cancellationToken);
                Interlocked.Increment(ref _cycles);
            }
        }
        catch (Exception e)
        {
            LogDrainCut(e);
        }
        var handedBack = Running;
        foreach (var id in handedBack)
        {
            await StopSessionAsync(id, CancellationToken.None);
        }
        try
        {
            await Pool.LeaveAsync(Info.WorkerId).WaitAsync(CallTimeout, CancellationToken.None);
        }
        catch (Exception e)
        {
            // The pool declares us lost after its bound and moves the conversations all the same.
            LogLeaveFailed(e);
        }
        Interlocked.Increment(ref _cycles);
        LogDrained(Info.WorkerId, handedBack.Count);
    }

    private async Task ReconcileAsync(IReadOnlyList<SessionAssignment> wanted, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var byId = wanted.ToDictionary(a => a.Conversation);
            List<(ConversationId Id, SessionAssignment Current)> running;
            lock (_sessions)
            {
                running = [.. _sessions.Select(p => (p.Key, p.Value))];
            }
            foreach (var (id, current) in running)
            {
                // Gone, or assigned again (it was moved away and back): the old session ends either way.
                if (!byId.TryGetValue(id, out var next) || next.Attempt != current.Attempt)
                {
                    await StopSessionAsync(id, cancellationToken);
                }
            }
            foreach (var assignment in wanted)
            {
                bool known;
                lock (_sessions)
                {
                    known = _sessions.ContainsKey(assignment.Conversation);
                }
                if (!known)
                {
                    await StartSessionAsync(assignment, cancellationToken);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task StartSessionAsync(SessionAssignment assignment, CancellationToken cancellationToken)
    {
        var key = assignment.Conversation.ToGrainKey();
        try
        {
            switch (await _runner.StartAsync(assignment, cancellationToken))
            {
                case SessionStart.Started:
                    lock (_sessions)
                    {
                        _sessions[assignment.Conversation] = assignment;
                    }
                    LogSessionStarted(key, assignment.Attempt);
                    break;
                case SessionStart.ConversationOver:
                    LogConversationOver(key);
                    await Pool.ReleaseAsync(assignment.Conversation).WaitAsync(CallTimeout, cancellationToken);
                    break;
            }
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            LogSessionStartFailed(key, e);
        }
    }

    private async Task StopSessionAsync(ConversationId id, CancellationToken cancellationToken)
    {
        try
        {
            await _runner.StopAsync(id, cancellationToken);
            LogSessionStopped(id.ToGrainKey());
        }
        catch (Exception e)
        {
            LogSessionStopFailed(id.ToGrainKey(), e);
        }
        finally
        {
            lock (_sessions)
            {
                _sessions.Remove(id);
            }
        }
    }
}
