namespace Platform.Render.Sessions;

/// <summary>Event types a session publishes (the CVI names).</summary>
public static class SessionEventTypes
{
    public const string UserStartedSpeaking = "user.started_speaking";
    public const string UserStoppedSpeaking = "user.stopped_speaking";
    public const string Utterance = "utterance";
    public const string ReplicaStartedSpeaking = "replica.started_speaking";
    public const string ReplicaStoppedSpeaking = "replica.stopped_speaking";
    public const string ReplicaInterrupted = "replica_interrupted";
    public const string ToolCall = "tool_call";
    public const string Error = "error";

    /// <summary>
    /// Control, not a conversation event (its <see cref="SessionEvent.Seq"/> is 0): the replica was cut, so queued
    /// output stamped after <see cref="SessionEvent.At"/> is void; the transport tells the page to drop it
    /// (<c>system.flush</c> with <c>after</c>).
    /// </summary>
    public const string Flush = "system.flush";
}

/// <summary>
/// One app event. <see cref="Seq"/> is monotonic per session; <see cref="At"/> is media time (the session's audio
/// timeline). Fields that do not apply to a type are null. Render-local until Contracts carries the wire shape.
/// </summary>
public sealed record SessionEvent(long Seq, string Type, int TurnIdx, string? InferenceId, TimeSpan At)
{
    /// <summary><c>user</c> or <c>replica</c> for utterances.</summary>
    public string? Role { get; init; }

    public string? Text { get; init; }

    /// <summary>How long the replica spoke (<c>replica.stopped_speaking</c>, <c>replica_interrupted</c>).</summary>
    public TimeSpan? Duration { get; init; }

    /// <summary>Stable error code (<c>llm.rate_limited</c>, <c>asr.failed</c>, <c>tts.failed</c>, <c>session.unexpected</c>...).</summary>
    public string? ErrorCode { get; init; }

    public string? ToolCallId { get; init; }

    public string? ToolName { get; init; }

    public string? Arguments { get; init; }

    /// <summary>The model that answered (so <c>platform/repeat</c> is named in events).</summary>
    public string? Model { get; init; }
}
