using System.Globalization;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Render;

/// <summary>
/// The cluster's render pool (one activation, key <see cref="RenderPool.Key"/>). Workers heartbeat every ~500 ms and
/// each answer carries their full assignment set, so a worker learns its work without server push. A worker silent for
/// <see cref="RenderPoolOptions.WorkerLostAfter"/> (on the grain's clock) is declared lost by a timer armed for exactly
/// that instant; its conversations move to the least-loaded live worker, which learns them at its next heartbeat.
/// Registrations and assignments are persisted on every change; heartbeat times are kept in memory only.
/// </summary>
internal sealed partial class RenderPoolGrain(
    [PersistentState("renderpool", PostgresSchema.StorageName)] IPersistentState<RenderPoolState> state,
    IOptions<RenderPoolOptions> options,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<RenderPoolGrain> logger) : Grain, IRenderPoolGrain
{
    public const int MaxWorkerIdLength = 200;
    public const int MaxSessionsPerWorker = 1000;

    private readonly Dictionary<string, DateTimeOffset> _lastSeen = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _running = new(StringComparer.Ordinal);
    private IGrainTimer? _lossTimer;

    private RenderPoolState S => state.State;
    private TimeSpan LostAfter => options.Value.WorkerLostAfter;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A fresh activation (first start, or the previous silo died) cannot know when workers last spoke: each known
        // worker gets a full bound from now to heartbeat in, and keeps its conversations if it does.
        var now = time.GetUtcNow();
        foreach (var id in S.Workers.Keys)
        {
            _lastSeen[id] = now;
        }
        _lossTimer = this.RegisterGrainTimer(CheckLivenessAsync, new GrainTimerCreationOptions(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan) { KeepAlive = true });
        ArmLossTimer();
        LogActivated(S.Workers.Count, S.Sessions.Count);
        return Task.CompletedTask;
    }

    public Task<HeartbeatReply> RegisterAsync(RenderWorkerInfo worker) => HeartbeatAsync(new WorkerHeartbeat(worker, [], Draining: false));

    public async Task<HeartbeatReply> HeartbeatAsync(WorkerHeartbeat heartbeat)
    {
        var info = Validate(heartbeat.Worker);
        var now = time.GetUtcNow();
        var changed = false;
        if (!S.Workers.TryGetValue(info.WorkerId, out var record))
        {
            record = new WorkerRecord { Info = info, RegisteredAt = now };
            S.Workers[info.WorkerId] = record;
            changed = true;
            LogRegistered(info.WorkerId, info.MaxSessions, info.Device, info.RendererBackend, info.Version);
        }
        else if (record.Info != info)
        {
            record.Info = info;
            changed = true;
        }
        if (record.Draining != heartbeat.Draining)
        {
            record.Draining = heartbeat.Draining;
            changed = true;
        }
        _lastSeen[info.WorkerId] = now;
        _running[info.WorkerId] = heartbeat.Running.Count;
        changed |= PlaceWaiting(now);
        if (changed)
        {
            await state.WriteStateAsync();
        }
        ArmLossTimer();
        return Reply(info.WorkerId);
    }

    public async Task<HeartbeatReply> DrainAsync(string workerId)
    {
        if (!S.Workers.TryGetValue(workerId, out var record))
        {
            return new HeartbeatReply([], true, LostAfter);
        }
        _lastSeen[workerId] = time.GetUtcNow();
        if (!record.Draining)
        {
            record.Draining = true;
            await state.WriteStateAsync();
            LogDraining(workerId, SessionsOf(workerId).Count());
        }
        ArmLossTimer();
        return Reply(workerId);
    }

    public async Task LeaveAsync(string workerId)
    {
        if (!S.Workers.Remove(workerId))
        {
            return;
        }
        _lastSeen.Remove(workerId);
        _running.Remove(workerId);
        var moved = MoveSessionsOf(workerId, time.GetUtcNow());
        await state.WriteStateAsync();
        ArmLossTimer();
        LogLeft(workerId, moved);
    }

    public async Task<Result<SessionAssignment?>> AssignAsync(SessionRequest request)
    {
        var key = request.Conversation.ToGrainKey();
        if (S.Sessions.TryGetValue(key, out var existing))
        {
            return Result<SessionAssignment?>.Ok(existing.Worker is null ? null : existing.ToAssignment());
        }
        var now = time.GetUtcNow();
        var worker = PickWorker();
        if (worker is null && options.Value.RequireWorker)
        {
            var live = S.Workers.Values.Count(w => !w.Draining);
            LogNoCapacity(key, live);
            var retry = options.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            return new Problem(ProblemKind.Unavailable,
                live == 0
                    ? $"No render worker is available to run the conversation; retry in {retry} s."
                    : $"All {live} render workers are at capacity; retry in {retry} s.",
                [], new Dictionary<string, string> { ["retry_after"] = retry });
        }
        var session = new SessionRecord
        {
            Conversation = request.Conversation,
            Replica = request.Replica,
            Persona = request.Persona,
            Worker = worker,
            AssignedAt = now,
            Attempt = worker is null ? 0 : 1,
            CreatedAt = now,
        };
        S.Sessions[key] = session;
        await state.WriteStateAsync();
        return Result<SessionAssignment?>.Ok(worker is null ? null : session.ToAssignment());
    }

    public async Task ReleaseAsync(ConversationId conversation)
    {
        if (!S.Sessions.Remove(conversation.ToGrainKey()))
        {
            return;
        }
        PlaceWaiting(time.GetUtcNow());
        await state.WriteStateAsync();
    }

    public Task<string?> WorkerOfAsync(ConversationId conversation) =>
        Task.FromResult(S.Sessions.TryGetValue(conversation.ToGrainKey(), out var s) ? s.Worker : null);

    public Task<string?> MediaUrlOfAsync(ConversationId conversation) =>
        Task.FromResult(S.Sessions.TryGetValue(conversation.ToGrainKey(), out var s) && s.Worker is { } worker
            && S.Workers.TryGetValue(worker, out var record) ? record.Info.MediaUrl : null);

    public Task<RenderPoolInfo> GetAsync()
    {
        var loads = Loads();
        var workers = S.Workers.Values
            .OrderBy(w => w.Info.WorkerId, StringComparer.Ordinal)
            .Select(w => new RenderWorkerView(w.Info, w.Draining ? WorkerStatus.Draining : WorkerStatus.Live,
                _lastSeen.GetValueOrDefault(w.Info.WorkerId),
                SessionsOf(w.Info.WorkerId).Select(s => s.Conversation).ToList(),
                _running.GetValueOrDefault(w.Info.WorkerId)))
            .ToList();
        var waiting = S.Sessions.Values.Where(s => s.Worker is null).OrderBy(s => s.CreatedAt).Select(s => s.Conversation).ToList();
        var free = S.Workers.Values.Where(w => !w.Draining).Sum(w => Math.Max(0, w.Info.MaxSessions - loads.GetValueOrDefault(w.Info.WorkerId)));
        return Task.FromResult(new RenderPoolInfo(workers, waiting, free, silo.SiloAddress.ToString()));
    }

    /// <summary>Declares lost every worker silent for the bound, moves its conversations, and re-arms for the next.</summary>
    private async Task CheckLivenessAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var lost = _lastSeen.Where(p => now - p.Value >= LostAfter).Select(p => p.Key).ToList();
        if (lost.Count > 0)
        {
            foreach (var workerId in lost)
            {
                var silentFor = now - _lastSeen[workerId];
                S.Workers.Remove(workerId);
                _lastSeen.Remove(workerId);
                _running.Remove(workerId);
                var orphans = SessionsOf(workerId).ToList();
                var moved = MoveSessionsOf(workerId, now);
                LogLost(workerId, silentFor.TotalMilliseconds, moved, orphans.Count - moved);
                // The replica left when its worker died: the presence record hears it, one-way, so the pool never
                // waits on a conversation grain (which may itself be waiting on the pool).
                foreach (var session in orphans)
                {
                    GrainFactory.GetGrain<IConversationGrain>(session.Conversation.ToGrainKey()).LeftAsync(PresenceRole.Replica, workerId).Ignore();
                }
            }
            await state.WriteStateAsync();
        }
        ArmLossTimer();
    }

    /// <summary>Arms the timer for the instant the least recently seen worker reaches the bound.</summary>
    private void ArmLossTimer()
    {
        if (_lossTimer is null)
        {
            return;
        }
        if (_lastSeen.Count == 0)
        {
            _lossTimer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }
        var due = _lastSeen.Values.Min() + LostAfter - time.GetUtcNow();
        _lossTimer.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Moves a gone worker's conversations to the least-loaded live workers (or leaves them waiting).</summary>
    private int MoveSessionsOf(string workerId, DateTimeOffset now)
    {
        var moved = 0;
        foreach (var session in SessionsOf(workerId).OrderBy(s => s.CreatedAt).ToList())
        {
            // Waiting is not an attempt: the count goes up when a worker gets it (here or in PlaceWaiting).
            session.Worker = PickWorker();
            session.AssignedAt = now;
            if (session.Worker is not null)
            {
                session.Attempt++;
                moved++;
            }
        }
        return moved;
    }

    /// <summary>Gives waiting conversations (oldest first) the free slots; true when any was placed.</summary>
    private bool PlaceWaiting(DateTimeOffset now)
    {
        var placed = false;
        foreach (var session in S.Sessions.Values.Where(s => s.Worker is null).OrderBy(s => s.CreatedAt).ToList())
        {
            if (PickWorker() is not { } worker)
            {
                break;
            }
            session.Worker = worker;
            session.AssignedAt = now;
            session.Attempt++;
            placed = true;
        }
        return placed;
    }

    /// <summary>The live, non-draining worker with the lowest share of its capacity in use and a free slot; ties go
    /// to the most free slots, then the lowest id (deterministic).</summary>
    private string? PickWorker()
    {
        var loads = Loads();
        return S.Workers.Values
            .Where(w => !w.Draining && _lastSeen.ContainsKey(w.Info.WorkerId))
            .Select(w => (Id: w.Info.WorkerId, Load: loads.GetValueOrDefault(w.Info.WorkerId), Max: w.Info.MaxSessions))
            .Where(w => w.Load < w.Max)
            .OrderBy(w => (double)w.Load / w.Max)
            .ThenByDescending(w => w.Max - w.Load)
            .ThenBy(w => w.Id, StringComparer.Ordinal)
            .Select(w => w.Id)
            .FirstOrDefault();
    }

    private Dictionary<string, int> Loads()
    {
        var loads = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var s in S.Sessions.Values)
        {
            if (s.Worker is { } w)
            {
                loads[w] = loads.GetValueOrDefault(w) + 1;
            }
        }
        return loads;
    }

    private IEnumerable<SessionRecord> SessionsOf(string workerId) =>
        S.Sessions.Values.Where(s => string.Equals(s.Worker, workerId, StringComparison.Ordinal));

    private HeartbeatReply Reply(string workerId) => new(
        SessionsOf(workerId).OrderBy(s => s.CreatedAt).Select(s => s.ToAssignment()).ToList(),
        S.Workers.TryGetValue(workerId, out var w) && w.Draining,
        LostAfter);

    private static RenderWorkerInfo Validate(RenderWorkerInfo info)
    {
        if (string.IsNullOrWhiteSpace(info.WorkerId) || info.WorkerId.Length > MaxWorkerIdLength)
        {
            throw new ArgumentException($"WorkerId must be 1 to {MaxWorkerIdLength} characters.", nameof(info));
        }
        if (info.MaxSessions is < 1 or > MaxSessionsPerWorker)
        {
            throw new ArgumentException($"MaxSessions must be 1 to {MaxSessionsPerWorker}.", nameof(info));
        }
        return info;
    }
}
