namespace Platform.Contracts;

/// <summary>What a render worker renders on.</summary>
public enum RenderDevice
{
    /// <summary>CPU only.</summary>
    Cpu = 0,
    /// <summary>A GPU (CUDA).</summary>
    Gpu = 1,
}

/// <summary>What a render worker offers: sent with its registration and with every heartbeat.</summary>
/// <param name="WorkerId">Stable per process (1 to 200 characters); a restarted process may reuse it.</param>
/// <param name="MaxSessions">Capacity: how many conversations it runs at once (at least 1).</param>
/// <param name="Device">CPU or GPU.</param>
/// <param name="RendererBackend">The face renderer in use, e.g. <c>onnx-cuda</c>, <c>onnx-cpu</c>, <c>skia</c>.</param>
/// <param name="Version">The worker's build version.</param>
/// <param name="MediaUrl">Where the Api relays a page's media socket (<c>ws://host:port</c>); null for a worker without
/// the embedded transport.</param>
[GenerateSerializer, Immutable]
public sealed record RenderWorkerInfo(
    [property: Id(0)] string WorkerId,
    [property: Id(1)] int MaxSessions,
    [property: Id(2)] RenderDevice Device,
    [property: Id(3)] string RendererBackend,
    [property: Id(4)] string Version,
    [property: Id(5)] string? MediaUrl = null);

/// <summary>A worker's periodic "I am alive": who it is, the conversations it is running right now, and whether it is
/// draining (so a pool that lost its memory learns that too).</summary>
[GenerateSerializer, Immutable]
public sealed record WorkerHeartbeat(
    [property: Id(0)] RenderWorkerInfo Worker,
    [property: Id(1)] IReadOnlyList<ConversationId> Running,
    [property: Id(2)] bool Draining = false);

/// <summary>One conversation a worker must run, with what it needs to start it.</summary>
/// <param name="Conversation">The conversation (its grain holds the presence record the worker reports to).</param>
/// <param name="Replica">The face and voice to render.</param>
/// <param name="Persona">Who the AI human is (prompt, LLM, voice).</param>
/// <param name="AssignedAt">When the pool gave it to this worker, on the pool's clock.</param>
/// <param name="Attempt">1 for the first worker; each move to another worker (loss, drain) adds one, so a worker
/// knows it is resuming a call that already has history.</param>
[GenerateSerializer, Immutable]
public sealed record SessionAssignment(
    [property: Id(0)] ConversationId Conversation,
    [property: Id(1)] ReplicaId Replica,
    [property: Id(2)] PersonaId Persona,
    [property: Id(3)] DateTimeOffset AssignedAt,
    [property: Id(4)] int Attempt);

/// <summary>
/// The pool's answer to a registration or heartbeat: the complete set of conversations this worker must run now.
/// The worker reconciles towards it (starts what is missing, stops what is no longer listed); there is no server push.
/// </summary>
/// <param name="Sessions">Everything assigned to this worker.</param>
/// <param name="Draining">True once the pool knows the worker is draining (it gets no new conversations).</param>
/// <param name="LostAfter">How long the pool waits for a heartbeat before it declares the worker lost.</param>
[GenerateSerializer, Immutable]
public sealed record HeartbeatReply(
    [property: Id(0)] IReadOnlyList<SessionAssignment> Sessions,
    [property: Id(1)] bool Draining,
    [property: Id(2)] TimeSpan LostAfter);

/// <summary>A new conversation asking for a worker.</summary>
[GenerateSerializer, Immutable]
public sealed record SessionRequest(
    [property: Id(0)] ConversationId Conversation,
    [property: Id(1)] ReplicaId Replica,
    [property: Id(2)] PersonaId Persona);

/// <summary>Liveness of a worker as the pool sees it.</summary>
public enum WorkerStatus
{
    /// <summary>Heartbeating and taking new conversations.</summary>
    Live = 0,
    /// <summary>Heartbeating, finishing its conversations, taking no new ones.</summary>
    Draining = 1,
}

/// <summary>One worker in the pool's view.</summary>
[GenerateSerializer, Immutable]
public sealed record RenderWorkerView(
    [property: Id(0)] RenderWorkerInfo Info,
    [property: Id(1)] WorkerStatus Status,
    [property: Id(2)] DateTimeOffset LastHeartbeatAt,
    [property: Id(3)] IReadOnlyList<ConversationId> Assigned,
    [property: Id(4)] int Running);

/// <summary>The pool at one instant: live workers, assignments, and the free capacity (the autoscaling signal).</summary>
/// <param name="Workers">Live and draining workers (lost ones are gone).</param>
/// <param name="Unassigned">Conversations waiting for a free slot (their worker was lost and nobody had room).</param>
/// <param name="FreeSlots">Sum of free sessions over live (not draining) workers.</param>
/// <param name="Host">The silo hosting the pool activation, for operators.</param>
[GenerateSerializer, Immutable]
public sealed record RenderPoolInfo(
    [property: Id(0)] IReadOnlyList<RenderWorkerView> Workers,
    [property: Id(1)] IReadOnlyList<ConversationId> Unassigned,
    [property: Id(2)] int FreeSlots,
    [property: Id(3)] string Host);

/// <summary>Where the one render pool lives.</summary>
public static class RenderPool
{
    /// <summary>The key of the cluster's only <see cref="IRenderPoolGrain"/>.</summary>
    public const long Key = 0;
}

/// <summary>
/// The render worker pool: one per cluster (key <see cref="RenderPool.Key"/>). Workers register and heartbeat; conversations
/// are assigned to the least-loaded live worker when they are created and released when they end; a worker silent for
/// longer than the pool's bound is declared lost and its conversations move to other workers. Assignments are
/// persisted, so they survive the pool's silo; workers re-register through their heartbeats.
/// </summary>
[Alias("Platform.IRenderPoolGrain")]
public interface IRenderPoolGrain : IGrainWithIntegerKey
{
    /// <summary>A worker (process) starts: it takes work again even if an earlier process with its id drained. Answers
    /// its assignments (a restarted worker gets back what it had).</summary>
    Task<HeartbeatReply> RegisterAsync(RenderWorkerInfo worker);

    /// <summary>A worker is alive; an unknown worker is registered by it. Answers its assignments.</summary>
    Task<HeartbeatReply> HeartbeatAsync(WorkerHeartbeat heartbeat);

    /// <summary>The worker is stopping: it gets no new conversations and keeps those it has until they end or it
    /// leaves. Its later heartbeats say <see cref="WorkerHeartbeat.Draining"/>.</summary>
    Task<HeartbeatReply> DrainAsync(string workerId);

    /// <summary>The worker is gone for good: whatever it still had moves to other workers (or waits unassigned).</summary>
    Task LeaveAsync(string workerId);

    /// <summary>Takes a slot on the least-loaded live worker for a new conversation; idempotent per conversation.
    /// <see cref="ProblemKind.Unavailable"/> when no worker has room; where the silo's <c>Render:RequireWorker</c> is
    /// false, such a conversation is accepted unassigned instead (null) and takes the next free slot.</summary>
    Task<Result<SessionAssignment?>> AssignAsync(SessionRequest request);

    /// <summary>Frees the conversation's slot (it ended or was deleted). Idempotent.</summary>
    Task ReleaseAsync(ConversationId conversation);

    /// <summary>The worker the conversation is assigned to, or null.</summary>
    Task<string?> WorkerOfAsync(ConversationId conversation);

    /// <summary>The media endpoint of the live worker running <paramref name="conversation"/> now, or null (none
    /// assigned, the worker is not live, or it has no embedded transport).</summary>
    Task<string?> MediaUrlOfAsync(ConversationId conversation);

    /// <summary>The pool's current view.</summary>
    Task<RenderPoolInfo> GetAsync();
}
