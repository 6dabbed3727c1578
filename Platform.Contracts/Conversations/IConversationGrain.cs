namespace Platform.Contracts;

/// <summary>Why a conversation ended (the CVI <c>shutdown_reason</c> values).</summary>
public static class ShutdownReasons
{
    /// <summary><c>properties.max_call_duration</c> elapsed.</summary>
    public const string MaxCallDuration = "max_call_duration";
    /// <summary>The last participant left and did not return within <c>participant_left_timeout</c>.</summary>
    public const string ParticipantLeftTimeout = "participant_left_timeout";
    /// <summary>Nobody joined within <c>participant_absent_timeout</c>.</summary>
    public const string ParticipantAbsentTimeout = "participant_absent_timeout";
    /// <summary><c>POST /v2/conversations/{id}/end</c>.</summary>
    public const string EndEndpoint = "end_conversation_endpoint_hit";
    /// <summary><c>DELETE /v2/conversations/{id}</c> on a live conversation.</summary>
    public const string Deleted = "conversation_deleted";
}

/// <summary>Conversation statuses.</summary>
public static class ConversationStatus
{
    /// <summary>Live: created and not ended.</summary>
    public const string Active = "active";
    /// <summary>Over, with a shutdown reason.</summary>
    public const string Ended = "ended";
}

/// <summary>One event of a conversation, in order of <see cref="Seq"/>.</summary>
[GenerateSerializer, Immutable]
public sealed record ConversationEvent(
    [property: Id(0)] long Seq,
    [property: Id(1)] string EventType,
    [property: Id(2)] string MessageType,
    [property: Id(3)] DateTimeOffset Timestamp,
    [property: Id(4)] string PropertiesJson,
    [property: Id(5)] int? TurnIdx = null,
    [property: Id(6)] string? InferenceId = null);

/// <summary>One line of the transcript.</summary>
[GenerateSerializer, Immutable]
public sealed record TranscriptLine([property: Id(0)] string Role, [property: Id(1)] string Content, [property: Id(2)] DateTimeOffset Timestamp);

/// <summary>A conversation as the API shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record ConversationInfo(
    [property: Id(0)] ConversationId Id,
    [property: Id(1)] string DocumentJson,
    [property: Id(2)] string Status,
    [property: Id(3)] string? ShutdownReason,
    [property: Id(4)] string Url,
    [property: Id(5)] ReplicaId? Replica,
    [property: Id(6)] PersonaId? Persona,
    [property: Id(7)] DateTimeOffset CreatedAt,
    [property: Id(8)] DateTimeOffset UpdatedAt,
    [property: Id(9)] DateTimeOffset? EndedAt,
    [property: Id(10)] IReadOnlyList<string> Warnings,
    [property: Id(11)] IReadOnlyList<ConversationEvent>? Events = null,
    [property: Id(12)] IReadOnlyList<TranscriptLine>? Transcript = null,
    [property: Id(13)] string? MeetingToken = null,
    [property: Id(20)] string? LiveKitUrl = null,
    [property: Id(21)] string? LiveKitRoom = null,
    [property: Id(22)] string? LiveKitToken = null,
    [property: Id(23)] DateTimeOffset? LiveKitTokenExpiresAt = null);

/// <summary>A track as LiveKit reports it: its id, <c>audio</c>/<c>video</c>/<c>data</c>, source and name.</summary>
[GenerateSerializer, Immutable]
public sealed record PublishedTrack(
    [property: Id(0)] string Sid,
    [property: Id(1)] string Type,
    [property: Id(2)] string Source,
    [property: Id(3)] string Name,
    [property: Id(4)] string MimeType);

/// <summary>Who a presence change is about.</summary>
public enum PresenceRole
{
    /// <summary>An end user.</summary>
    Participant = 0,
    /// <summary>The replica (its render worker).</summary>
    Replica = 1,
}

/// <summary>
/// A live conversation: lifecycle <c>active → ended</c>, limits, presence record, events and transcript.
/// Key: <see cref="ConversationId"/>.
/// </summary>
[Alias("Platform.IConversationGrain")]
public interface IConversationGrain : IGrainWithStringKey
{
    /// <summary>Creates it from a validated <c>POST /v2/conversations</c> body; takes a concurrency slot.</summary>
    Task<Result<ConversationInfo>> CreateAsync(string documentJson);

    /// <summary>The conversation (with events and transcript when <paramref name="verbose"/>), or null.</summary>
    Task<ConversationInfo?> GetAsync(bool verbose);

    /// <summary>Ends it with <paramref name="reason"/> (idempotent: an ended conversation keeps its first reason).</summary>
    Task<Result<ConversationInfo>> EndAsync(string reason);

    /// <summary>Ends it if live, then deletes it with its events and transcript; false when it did not exist.</summary>
    Task<bool> DeleteAsync();

    /// <summary>Records a join, stamped on the grain's clock and persisted before it returns.</summary>
    Task<Result<ConversationInfo>> JoinedAsync(PresenceRole role, string identity);

    /// <summary>Records a leave, stamped and persisted before it returns.</summary>
    Task<Result<ConversationInfo>> LeftAsync(PresenceRole role, string identity);

    /// <summary>Ends the conversation if one of its limits has passed; called by its timer and by the sweeper.</summary>
    Task EnforceLimitsAsync();

    /// <summary>LiveKit closed the conversation's room: everyone still present is recorded as having left.</summary>
    Task<Result<ConversationInfo>> RoomFinishedAsync();

    /// <summary>A participant published a track in the conversation's room (LiveKit <c>track_published</c>).</summary>
    Task<Result<ConversationInfo>> TrackPublishedAsync(PresenceRole role, string identity, PublishedTrack track);

    /// <summary>What a render worker needs to run the session (persona with secrets, look, history); NotFound or
    /// Conflict (ended) when there is nothing to run. Cluster-internal: never exposed by the Api.</summary>
    Task<Result<SessionSpec>> GetSessionSpecAsync();

    /// <summary>Records in-call events from the worker running the session (<paramref name="workerId"/>); events with
    /// a <c>seq</c> already recorded are ignored (a retried batch). Conflict once the conversation has ended.</summary>
    Task<Result<int>> RecordSessionEventsAsync(string workerId, IReadOnlyList<SessionEventRecord> events);
    /// <summary>
    /// Opens the conversation page: checks <paramref name="urlToken"/> (the last segment of <c>conversation_url</c>)
    /// in constant time and, when the conversation has <c>require_auth</c>, <paramref name="meetingToken"/> against its
    /// hash. A wrong link answers NotFound exactly as a missing conversation does; a missing or wrong meeting token
    /// answers a page with <see cref="ConversationPage.Authorized"/> false. Changes nothing.
    /// </summary>
    Task<Result<ConversationPage>> OpenPageAsync(string urlToken, string? meetingToken);

    /// <summary>
    /// The end user's LiveKit join for the page at <c>conversation_url</c> (same link and meeting-token checks as
    /// <see cref="OpenPageAsync"/>; a bad link is NotFound), while the conversation is active and on LiveKit (Conflict otherwise).
    /// </summary>
    Task<Result<LiveKitJoin>> OpenPageLiveKitAsync(string urlToken, string? meetingToken);

    /// <summary>
    /// A render worker's LiveKit join (identity <c>worker-{workerId}</c>, kind agent, valid at most until the call's
    /// maximum duration) while the conversation is active and on LiveKit (Conflict otherwise).
    /// </summary>
    Task<Result<LiveKitJoin>> GetRenderWorkerJoinAsync(string workerId);
}

/// <summary>Runs <c>POST /v2/conversations</c> with an <c>Idempotency-Key</c>. Key: <c>{tenant}/{sha256(key)}</c>.</summary>
[Alias("Platform.IIdempotentCreateGrain")]
public interface IIdempotentCreateGrain : IGrainWithStringKey
{
    /// <summary>
    /// The first call creates the conversation; a retry with the same body within 24 h returns it again; the same key
    /// with a different body is Unprocessable.
    /// </summary>
    Task<Result<ConversationInfo>> CreateConversationAsync(string documentJson);
}

/// <summary>What a listing is about.</summary>
public enum ResourceKind
{
    /// <summary>Replicas.</summary>
    Replica = 0,
    /// <summary>Personas.</summary>
    Persona = 1,
    /// <summary>Conversations.</summary>
    Conversation = 2,
}

/// <summary>Tenant-scoped listings from the index tables. Key: <see cref="TenantId"/>. Stateless.</summary>
[Alias("Platform.ICatalogGrain")]
public interface ICatalogGrain : IGrainWithStringKey
{
    /// <summary>
    /// A page (1-based) of the tenant's resources, newest first, as their list-view JSON; optionally only those whose
    /// list-view member <paramref name="field"/> equals <paramref name="value"/> (e.g. <c>status</c> = <c>active</c>).
    /// </summary>
    Task<Page<string>> ListAsync(ResourceKind kind, int page, int limit, string? field = null, string? value = null);
}

/// <summary>Grain keys for idempotent creates.</summary>
public static class IdempotencyKeys
{
    /// <summary>Longest accepted <c>Idempotency-Key</c> header.</summary>
    public const int MaxLength = 255;

    /// <summary>The grain key of <see cref="IIdempotentCreateGrain"/>: the tenant and a hash of the client's key.</summary>
    public static string GrainKey(TenantId tenant, string key) =>
        $"{tenant.Value}/{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key)))}";
}
