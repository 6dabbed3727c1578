namespace Platform.Contracts;

/// <summary>
/// Everything a render worker needs to run (or resume) a conversation's session. Internal to the cluster: the persona
/// document carries its secrets decrypted (the LLM key), so this record is never logged or returned by the Api.
/// </summary>
/// <param name="Conversation">The conversation.</param>
/// <param name="ConversationJson">The conversation's stored document (<c>custom_greeting</c>, <c>audio_only</c>, properties...).</param>
/// <param name="PersonaJson">The persona's document with its write-only members decrypted.</param>
/// <param name="ReplicaName">The replica's display name.</param>
/// <param name="Look">The replica's look; null when it has none (a replica still in training cannot join).</param>
/// <param name="History">The transcript so far: a resumed session continues it (the LLM's next request contains it).</param>
/// <param name="NextSeq">The first <c>seq</c> the session may use, so events stay monotonic across workers.</param>
/// <param name="NextTurnIdx">The first turn index the session may use.</param>
/// <param name="LiveKitRoom">The LiveKit room the media goes through (the worker asks
/// <see cref="IConversationGrain.GetRenderWorkerJoinAsync"/> for its token); null: the embedded transport.</param>
/// <param name="AvatarAgent">Avatar mode: the tenant's agent (<c>lk.publish_on_behalf</c>) whose speech the replica
/// renders in the tenant's own room <paramref name="LiveKitRoom"/>; null for a conversation of our own.</param>
[GenerateSerializer, Immutable]
public sealed record SessionSpec(
    [property: Id(0)] ConversationId Conversation,
    [property: Id(1)] string ConversationJson,
    [property: Id(2)] string PersonaJson,
    [property: Id(3)] string ReplicaName,
    [property: Id(4)] ReplicaLook? Look,
    [property: Id(5)] IReadOnlyList<TranscriptLine> History,
    [property: Id(6)] long NextSeq,
    [property: Id(7)] int NextTurnIdx,
    [property: Id(8)] string? LiveKitRoom = null,
    [property: Id(9)] string? AvatarAgent = null)
{
    /// <summary>Avatar mode: the session renders <see cref="AvatarAgent"/>'s speech instead of running the persona.</summary>
    public bool IsAvatar => AvatarAgent is not null;

    /// <summary>The session's media goes through LiveKit instead of the embedded transport.</summary>
    public bool OnLiveKit => LiveKitRoom is not null;

    /// <summary>True when the session already ran somewhere (a worker failover or move): no second greeting.</summary>
    public bool Resumed => NextSeq > 0 || History.Count > 0;

    /// <summary>Names the conversation and the history's size, never the persona (it holds secrets).</summary>
    public override string ToString() => $"SessionSpec {{ Conversation = {Conversation}, History = {History.Count}, NextSeq = {NextSeq} }}";
}

/// <summary>
/// One in-call event a session produced (<c>conversation.utterance</c>, <c>conversation.replica.started_speaking</c>,
/// <c>conversation.turn_metrics</c>...), recorded by the conversation for the verbose GET, the transcript and billing.
/// </summary>
/// <param name="Seq">The session's own monotonic sequence number (continues across workers through <see cref="SessionSpec.NextSeq"/>).</param>
/// <param name="EventType">The CVI event type.</param>
/// <param name="PropertiesJson">The event's <c>properties</c> object.</param>
/// <param name="Timestamp">When it happened.</param>
/// <param name="TurnIdx">The turn it belongs to.</param>
/// <param name="InferenceId">The LLM turn that caused it, if any.</param>
[GenerateSerializer, Immutable]
public sealed record SessionEventRecord(
    [property: Id(0)] long Seq,
    [property: Id(1)] string EventType,
    [property: Id(2)] string PropertiesJson,
    [property: Id(3)] DateTimeOffset Timestamp,
    [property: Id(4)] int? TurnIdx = null,
    [property: Id(5)] string? InferenceId = null);

/// <summary>In-call event types a session records (the CVI app-message names).</summary>
public static class InCallEventTypes
{
    /// <summary>Something said, by <c>user</c> or <c>replica</c>.</summary>
    public const string Utterance = "conversation.utterance";
    /// <summary>The LLM asked for a tool.</summary>
    public const string ToolCall = "conversation.tool_call";
    /// <summary>The replica's audio began.</summary>
    public const string ReplicaStartedSpeaking = "conversation.replica.started_speaking";
    /// <summary>The replica's audio ended.</summary>
    public const string ReplicaStoppedSpeaking = "conversation.replica.stopped_speaking";
    /// <summary>The user began to speak.</summary>
    public const string UserStartedSpeaking = "conversation.user.started_speaking";
    /// <summary>The user stopped speaking.</summary>
    public const string UserStoppedSpeaking = "conversation.user.stopped_speaking";
    /// <summary>The user cut the replica off.</summary>
    public const string ReplicaInterrupted = "conversation.replica_interrupted";
    /// <summary>Something went wrong in the session (it goes on).</summary>
    public const string Error = "conversation.error";

    /// <summary>Per-turn latency (ours, not CVI's): the metrics of one turn from the true end of user speech.</summary>
    public const string TurnMetrics = "conversation.turn_metrics";

    /// <summary>Every type above.</summary>
    public static IReadOnlySet<string> All { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        Utterance, ToolCall, ReplicaStartedSpeaking, ReplicaStoppedSpeaking, UserStartedSpeaking, UserStoppedSpeaking,
        ReplicaInterrupted, Error, TurnMetrics,
    };
}
