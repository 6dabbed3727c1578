using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Platform.Contracts;
using Platform.Contracts.Json;
using Platform.Silo.Hosting;
using Platform.Silo.Infrastructure;
using Platform.Silo.Personas;
using Platform.Silo.Webhooks;

namespace Platform.Silo.Conversations;

/// <summary>
/// One conversation: creation rules, the presence record, the limits that end it, and its event log. Single writer
/// for its rows; every change is persisted before the call returns.
/// </summary>
internal sealed partial class ConversationGrain(
    [PersistentState("conversation", PostgresSchema.StorageName)] IPersistentState<ConversationState> state,
    AppDatabase database,
    WebhookOutbox webhooks,
    IOptions<PlatformOptions> options,
    TimeProvider time,
    ILogger<ConversationGrain> logger) : Grain, IConversationGrain
{
    private ITimer? _deadlineTimer;

    private ConversationId Id => ConversationId.FromGrainKey(this.GetPrimaryKeyString());
    private bool Exists => state.RecordExists && state.State.DocumentJson is not null;
    private ConversationState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Exists)
        {
            await EnforceLimitsAsync();
        }
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _deadlineTimer?.Dispose();
        return Task.CompletedTask;
    }

    public async Task<Result<ConversationInfo>> CreateAsync(string documentJson)
    {
        if (Exists)
        {
            return Problem.Field(ProblemKind.Conflict, "conversation_id", $"Conversation '{Id}' already exists.");
        }
        var node = JsonNode.Parse(documentJson);
        var shape = ShapeValidation.Validate(CviSchemas.Conversation, node);
        if (shape.Count > 0)
        {
            return Problem.Invalid(shape);
        }
        var doc = (JsonObject)node!;
        var plan = await PlanAsync(doc);
        if (!plan.IsOk)
        {
            return plan.Problem!;
        }
        var (persona, replica, limits, warnings) = plan.Value!;
        var avatar = TakeAvatarRoom(doc); // avatar mode: ConversationGrain.Avatar.cs
        if (!avatar.IsOk)
        {
            return avatar.Problem!;
        }

        var slot = await GrainFactory.GetGrain<ITenantGrain>(Id.Tenant.ToGrainKey()).AcquireConversationSlotAsync(Id);
        if (!slot.Granted)
        {
            return new Problem(ProblemKind.LimitExceeded,
                $"The plan allows {slot.Limit} concurrent conversations and {slot.Active} are active; end one or raise the plan's limit.",
                [new FieldError("max_concurrent_conversations", $"limit {slot.Limit}, active {slot.Active}")],
                new Dictionary<string, string> { ["limit"] = slot.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture), ["current"] = slot.Active.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        }
        if (await TakeRenderSlotAsync(persona, replica, doc) is { } noRenderSlot)
        {
            return noRenderSlot;
        }

        var now = time.GetUtcNow();
        var urlToken = LocalIds.RandomHex(16); // 128 bits
        string? meetingToken = Json.Bool(doc, "require_auth") == true ? "mt_" + LocalIds.RandomHex(24) : null;
        state.State = new ConversationState
        {
            DocumentJson = doc.ToJsonString(),
            CreatedAt = now,
            UpdatedAt = now,
            Url = $"{options.Value.PublicBaseUrl.TrimEnd('/')}/c/{Id.Tenant.Value}/{Id.Local}/{urlToken}",
            MeetingTokenHash = meetingToken is null ? null : Hash(meetingToken),
            Persona = persona,
            Replica = replica,
            Warnings = warnings,
            Limits = limits,
            TestMode = Json.Bool(doc, "test_mode") == true,
            Avatar = avatar.Value,
        };
        if (await OpenRoomAsync() is { } roomProblem) return roomProblem; // LiveKit: ConversationGrain.LiveKit.cs
        try
        {
            var events = warnings.Select(w => NewEvent("system.warning", "system", new JsonObject { ["message"] = w })).ToList();
            await SaveAsync(events);
        }
        catch
        {
            await UndoCreateAsync();
            throw;
        }
        return Result<ConversationInfo>.Ok(WithUserToken(Info()) with { MeetingToken = meetingToken });
    }

    /// <summary>Gives back everything a failed create had taken (room, tenant slot, render slot); nothing is stored.</summary>
    private async Task UndoCreateAsync()
    {
        CloseRoom();
        await GrainFactory.GetGrain<ITenantGrain>(Id.Tenant.ToGrainKey()).ReleaseConversationSlotAsync(Id);
        await ReleaseRenderSlotAsync();
        state.State = new ConversationState();
    }

    private sealed record CreatePlan(PersonaId Persona, ReplicaId Replica, ConversationLimits Limits, List<string> Warnings);

    /// <summary>The creation rules: references exist in this tenant, the language is spoken, limits are in range.</summary>
    private async Task<Result<CreatePlan>> PlanAsync(JsonObject doc)
    {
        var personaLocal = Json.Str(doc, "persona_id");
        if (personaLocal is null)
        {
            return Problem.Field(ProblemKind.Unprocessable, "persona_id", "'persona_id' is required: every conversation runs a persona (create one with POST /v2/personas).");
        }
        var persona = new PersonaId(Id.Tenant, personaLocal);
        var personaInfo = PersonaId.IsValidLocal(personaLocal) ? await GrainFactory.GetGrain<IPersonaGrain>(persona.ToGrainKey()).GetAsync() : null;
        if (personaInfo is null)
        {
            return Problem.Field(ProblemKind.Unprocessable, "persona_id", $"'persona_id': no persona with id '{personaLocal}' exists.");
        }
        var personaDoc = Json.ParseObject(personaInfo.DocumentJson);
        var replicaLocal = Json.Str(doc, "replica_id") ?? Json.Str(personaDoc, "default_replica_id");
        if (replicaLocal is null)
        {
            return Problem.Field(ProblemKind.Unprocessable, "replica_id", "'replica_id' is required because the persona has no default_replica_id.");
        }
        var replica = new ReplicaId(Id.Tenant, replicaLocal);
        var replicaInfo = ReplicaId.IsValidLocal(replicaLocal) ? await GrainFactory.GetGrain<IReplicaGrain>(replica.ToGrainKey()).GetAsync() : null;
        if (replicaInfo is null)
        {
            return Problem.Field(ProblemKind.Unprocessable, "replica_id", $"'replica_id': no replica with id '{replicaLocal}' exists.");
        }
        var testMode = Json.Bool(doc, "test_mode") == true;
        if (replicaInfo.Status != "completed" && !testMode)
        {
            return Problem.Field(ProblemKind.Unprocessable, "replica_id", $"'replica_id': replica '{replicaLocal}' is '{replicaInfo.Status}', not 'completed', and cannot join a conversation.");
        }
        var props = Json.Obj(doc, "properties");
        if (Json.Str(props, "language") is { } language && !PersonaRules.Speaks(personaDoc, language, out var engines))
        {
            return Problem.Field(ProblemKind.Unprocessable, "properties.language",
                $"'properties.language': '{language}' is not spoken by this persona's engines ({engines}); supported: {string.Join(", ", PersonaRules.BuiltInLanguages.Select(l => $"'{l}'"))}, or any language with openai_compatible stt and tts.");
        }
        var limits = new ConversationLimits(
            (int)(Json.Int(props, "max_call_duration") ?? 3600),
            (int)(Json.Int(props, "participant_left_timeout") ?? 60),
            (int)(Json.Int(props, "participant_absent_timeout") ?? 300));
        var warnings = new List<string>(personaInfo.Warnings);
        if (Json.Bool(props, "enable_recording") == true)
        {
            warnings.Add("properties.enable_recording: recording is not available yet; this conversation is not recorded.");
        }
        if (doc["memory_stores"] is JsonArray { Count: > 0 })
        {
            warnings.Add("memory_stores: memories are not available yet; they are stored with the conversation but not used.");
        }
        if (doc["document_ids"] is JsonArray { Count: > 0 } || doc["document_tags"] is JsonArray { Count: > 0 })
        {
            warnings.Add("document_ids/document_tags: the knowledge base is not available yet; documents are not consulted.");
        }
        return Result<CreatePlan>.Ok(new CreatePlan(persona, replica, limits, warnings));
    }

    public async Task<ConversationInfo?> GetAsync(bool verbose)
    {
        if (!Exists)
        {
            return null;
        }
        if (!verbose)
        {
            return WithUserToken(Info());
        }
        var events = await database.ReadEventsAsync(Id);
        return WithUserToken(Info()) with { Events = events, Transcript = Transcript(events) };
    }

    public async Task<Result<ConversationInfo>> EndAsync(string reason)
    {
        if (!Exists)
        {
            return Problem.NotFound("conversation", Id.Local);
        }
        await EndAtAsync(reason, time.GetUtcNow());
        return Result<ConversationInfo>.Ok(Info());
    }

    public async Task<bool> DeleteAsync()
    {
        if (!Exists)
        {
            return false;
        }
        await EndAtAsync(ShutdownReasons.Deleted, time.GetUtcNow());
        await database.DeleteEventsAsync(Id);
        await webhooks.DeleteAsync(Id); // undelivered callbacks of a deleted conversation are discarded with it
        await database.DeleteIndexAsync(Id.Tenant, ResourceKind.Conversation, Id.Local);
        await state.ClearStateAsync();
        state.State = new ConversationState();
        DeactivateOnIdle();
        return true;
    }

    public async Task<Result<ConversationInfo>> JoinedAsync(PresenceRole role, string identity)
    {
        if (Refuse(identity) is { } problem)
        {
            return problem;
        }
        var now = time.GetUtcNow();
        var p = S.Presence;
        JsonObject props;
        string eventType;
        if (role == PresenceRole.Participant)
        {
            if (!p.Participants.Contains(identity))
            {
                p.Participants.Add(identity);
            }
            p.FirstParticipantJoinedAt ??= now;
            eventType = "system.participant_joined";
            props = new JsonObject { ["participant_id"] = identity, ["participants"] = p.Participants.Count };
        }
        else
        {
            p.Replica = identity;
            p.ReplicaJoinedAt ??= now;
            eventType = "system.replica_joined";
            props = new JsonObject { ["replica_id"] = S.Replica?.Local, ["worker"] = identity };
        }
        S.UpdatedAt = now;
        await SaveAsync([NewEvent(eventType, "system", props)]);
        return Result<ConversationInfo>.Ok(Info());
    }

    public async Task<Result<ConversationInfo>> LeftAsync(PresenceRole role, string identity)
    {
        if (Refuse(identity) is { } problem)
        {
            return problem;
        }
        var now = time.GetUtcNow();
        var p = S.Presence;
        JsonObject props;
        string eventType;
        if (role == PresenceRole.Participant)
        {
            if (!p.Participants.Remove(identity))
            {
                return Result<ConversationInfo>.Ok(Info());
            }
            if (p.Participants.Count == 0)
            {
                p.LastParticipantLeftAt = now;
            }
            eventType = "system.participant_left";
            props = new JsonObject { ["participant_id"] = identity, ["participants"] = p.Participants.Count };
        }
        else
        {
            if (p.Replica != identity)
            {
                return Result<ConversationInfo>.Ok(Info());
            }
            p.Replica = null;
            eventType = "system.replica_left";
            props = new JsonObject { ["replica_id"] = S.Replica?.Local, ["worker"] = identity };
        }
        S.UpdatedAt = now;
        await SaveAsync([NewEvent(eventType, "system", props)]);
        await EnforceLimitsAsync();
        return Result<ConversationInfo>.Ok(Info());
    }

    public async Task EnforceLimitsAsync()
    {
        if (!Exists)
        {
            // Poked through an index row with no conversation behind it (a write that failed half-way): drop the row.
            await database.DeleteIndexAsync(Id.Tenant, ResourceKind.Conversation, Id.Local);
            DeactivateOnIdle();
            return;
        }
        var next = ConversationDeadlines.Next(S);
        if (next is { } deadline && deadline.At <= time.GetUtcNow())
        {
            // Ended at the instant the limit passed, not when the check ran: billing reads EndedAt.
            await EndAtAsync(deadline.Reason, deadline.At);
            return;
        }
        ArmTimer();
    }

    private Problem? Refuse(string identity)
    {
        if (!Exists)
        {
            return Problem.NotFound("conversation", Id.Local);
        }
        if (string.IsNullOrWhiteSpace(identity) || identity.Length > 200)
        {
            return Problem.Field(ProblemKind.Invalid, "identity", "'identity' must be 1 to 200 characters.");
        }
        if (S.Status != ConversationStatus.Active)
        {
            return Problem.Field(ProblemKind.Conflict, "status", $"Conversation '{Id.Local}' has ended ({S.ShutdownReason}).");
        }
        return null;
    }

    private async Task EndAtAsync(string reason, DateTimeOffset at)
    {
        if (S.Status != ConversationStatus.Active)
        {
            return;
        }
        S.Status = ConversationStatus.Ended;
        S.ShutdownReason = reason;
        S.EndedAt = at;
        CloseRoom();
        S.UpdatedAt = time.GetUtcNow();
        if (S.Presence.Participants.Count > 0)
        {
            S.Presence.LastParticipantLeftAt = at;
        }
        var transcript = new JsonArray([.. Transcript(await database.ReadEventsAsync(Id))
            .Select(t => (JsonNode)new JsonObject { ["role"] = t.Role, ["content"] = t.Content })]);
        await SaveAsync([
            NewEvent("system.shutdown", "system", new JsonObject { ["shutdown_reason"] = reason }, at),
            NewEvent("application.transcription_ready", "application", new JsonObject { ["transcript"] = transcript }, at),
        ]);
        await GrainFactory.GetGrain<ITenantGrain>(Id.Tenant.ToGrainKey()).ReleaseConversationSlotAsync(Id);
        await ReleaseRenderSlotAsync();
        _deadlineTimer?.Dispose();
        _deadlineTimer = null;
        LogEnded(Id.ToGrainKey(), reason);
    }

    /// <summary>The transcript: the conversation's utterance events, in order.</summary>
    private static List<TranscriptLine> Transcript(IReadOnlyList<ConversationEvent> events) =>
        [.. events.Where(e => e.EventType == "conversation.utterance")
            .Select(e => (Props: JsonNode.Parse(e.PropertiesJson) as JsonObject, e.Timestamp))
            .Select(u => new TranscriptLine(Json.Str(u.Props, "role") ?? "user", Json.Str(u.Props, "speech") ?? "", u.Timestamp))];

    private ConversationEvent NewEvent(string type, string messageType, JsonObject properties, DateTimeOffset? at = null) =>
        new(S.NextSeq++, type, messageType, at ?? time.GetUtcNow(), properties.ToJsonString());

    /// <summary>State first (the source of truth), then its event rows and the index row with the next deadline.</summary>
    private async Task SaveAsync(IReadOnlyList<ConversationEvent> events)
    {
        // The writes are independent rows, so they go out together: one round trip of latency, not four. An index or
        // event row whose state write failed is harmless: the sweeper's poke finds no conversation and drops the row.
        var callback = events.Count > 0 ? Json.Str(Json.ParseObject(S.DocumentJson!), "callback_url") : null;
        await Task.WhenAll(
            state.WriteStateAsync(),
            database.AppendEventsAsync(Id, events),
            callback is null ? Task.CompletedTask : webhooks.EnqueueAsync(Id, callback, events, time.GetUtcNow()),
            database.UpsertIndexAsync(Id.Tenant, ResourceKind.Conversation, Id.Local, S.Status, S.CreatedAt,
                ConversationDeadlines.Next(S)?.At, CviViews.Conversation(Info()).ToJsonString()));
        ArmTimer();
    }

    /// <summary>A timer on the grain's TimeProvider for the next deadline; the sweeper covers deactivated grains.</summary>
    private void ArmTimer()
    {
        _deadlineTimer?.Dispose();
        _deadlineTimer = null;
        if (ConversationDeadlines.Next(S) is not { } next)
        {
            return;
        }
        var due = next.At - time.GetUtcNow();
        var self = this.AsReference<IConversationGrain>();
        _deadlineTimer = time.CreateTimer(_ => _ = self.EnforceLimitsAsync(), null, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    private ConversationInfo Info() => WithRoom(new(Id, S.DocumentJson!, S.Status, S.ShutdownReason, S.Url, S.Replica, S.Persona,
        S.CreatedAt, S.UpdatedAt, S.EndedAt, S.Warnings));

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversation {Conversation} ended: {Reason}")]
    private partial void LogEnded(string conversation, string reason);
}
