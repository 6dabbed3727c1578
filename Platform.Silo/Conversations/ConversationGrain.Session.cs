using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Conversations;

/// <summary>
/// The render worker's side of a conversation: what it needs to run the session (persona, look, history) and the
/// in-call events it reports (utterances, speaking, interruptions, per-turn latency), which become the transcript.
/// </summary>
internal sealed partial class ConversationGrain
{
    /// <summary>A batch bound: a worker reports often, in small batches.</summary>
    private const int MaxSessionEventsPerBatch = 500;

    public async Task<Result<SessionSpec>> GetSessionSpecAsync()
    {
        if (Refuse("worker") is { } problem)
        {
            return problem;
        }
        var persona = S.Persona is { } p ? await GrainFactory.GetGrain<IPersonaGrain>(p.ToGrainKey()).GetRuntimeDocumentAsync() : null;
        if (persona is null)
        {
            return Problem.Field(ProblemKind.Conflict, "persona_id", $"The persona of conversation '{Id.Local}' no longer exists.");
        }
        var replica = S.Replica is { } r ? await GrainFactory.GetGrain<IReplicaGrain>(r.ToGrainKey()).GetAsync() : null;
        var history = S.NextSessionSeq > 0 ? Transcript(await database.ReadEventsAsync(Id)) : [];
        return Result<SessionSpec>.Ok(new SessionSpec(Id, S.DocumentJson!, persona, replica?.Name ?? "Replica", replica?.Look,
            history, S.NextSessionSeq, S.NextTurnIdx, S.Avatar?.Room ?? (Rooms.Enabled ? S.LiveKitRoom : null), S.Avatar?.AgentIdentity));
    }

    public async Task<Result<int>> RecordSessionEventsAsync(string workerId, IReadOnlyList<SessionEventRecord> events)
    {
        if (Refuse(workerId) is { } problem)
        {
            return problem;
        }
        if (events.Count > MaxSessionEventsPerBatch)
        {
            return Problem.Field(ProblemKind.Invalid, "events", $"At most {MaxSessionEventsPerBatch} events per batch; got {events.Count}.");
        }
        var fresh = new List<ConversationEvent>();
        foreach (var e in events.OrderBy(e => e.Seq))
        {
            if (e.Seq < S.NextSessionSeq)
            {
                continue; // a retried batch
            }
            if (!InCallEventTypes.All.Contains(e.EventType))
            {
                return Problem.Field(ProblemKind.Invalid, "event_type", $"'{e.EventType}' is not an in-call event type.");
            }
            if (JsonNode.Parse(e.PropertiesJson) is not JsonObject props)
            {
                return Problem.Field(ProblemKind.Invalid, "properties", $"Event {e.Seq}: properties must be a JSON object.");
            }
            props["seq"] = e.Seq;
            fresh.Add(NewEvent(e.EventType, "conversation", props, e.Timestamp) with { TurnIdx = e.TurnIdx, InferenceId = e.InferenceId });
            S.NextSessionSeq = e.Seq + 1;
            if (e.TurnIdx is { } turn && turn + 1 > S.NextTurnIdx)
            {
                S.NextTurnIdx = turn + 1;
            }
        }
        if (fresh.Count > 0)
        {
            S.UpdatedAt = time.GetUtcNow();
            await SaveAsync(fresh);
        }
        return Result<int>.Ok(fresh.Count);
    }
}
