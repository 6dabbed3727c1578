using Platform.Contracts;

namespace Platform.Silo.Render;

/// <summary>The pool's persisted state: who is registered and who runs what. Heartbeat times are not persisted (a
/// reactivated pool gives every known worker a fresh bound to heartbeat in).</summary>
[GenerateSerializer]
public sealed class RenderPoolState
{
    /// <summary>Registered workers by id.</summary>
    [Id(0)] public Dictionary<string, WorkerRecord> Workers { get; set; } = [];

    /// <summary>Live conversations holding a slot, by conversation grain key.</summary>
    [Id(1)] public Dictionary<string, SessionRecord> Sessions { get; set; } = [];
}

[GenerateSerializer]
public sealed class WorkerRecord
{
    [Id(0)] public RenderWorkerInfo Info { get; set; } = null!;
    [Id(1)] public bool Draining { get; set; }
    [Id(2)] public DateTimeOffset RegisteredAt { get; set; }
}

[GenerateSerializer]
public sealed class SessionRecord
{
    [Id(0)] public ConversationId Conversation { get; set; }
    [Id(1)] public ReplicaId Replica { get; set; }
    [Id(2)] public PersonaId Persona { get; set; }
    /// <summary>The worker running it; null while it waits for a free slot.</summary>
    [Id(3)] public string? Worker { get; set; }
    [Id(4)] public DateTimeOffset AssignedAt { get; set; }
    [Id(5)] public int Attempt { get; set; }
    [Id(6)] public DateTimeOffset CreatedAt { get; set; }

    public SessionAssignment ToAssignment() => new(Conversation, Replica, Persona, AssignedAt, Attempt);
}
