namespace Platform.Render.Thinking;

/// <summary>
/// What one LLM turn produces, in order. Every event carries the turn's <see cref="InferenceId"/> and
/// <see cref="TurnIdx"/>; the session stamps <c>seq</c> and wall time when it publishes them.
/// </summary>
public abstract record ThinkingEvent(string InferenceId, int TurnIdx)
{
    /// <summary>Elapsed time since the turn started, on the session's clock.</summary>
    public TimeSpan Elapsed { get; init; }
}

/// <summary>The turn began; names the model (so <c>platform/repeat</c> is visible, never a silent default).</summary>
public sealed record LlmTurnStarted(string InferenceId, int TurnIdx, string Model, bool IsBuiltIn) : ThinkingEvent(InferenceId, TurnIdx);

/// <summary>A complete clause to speak. <see cref="IsFallback"/> marks the stage's own words after a failure.</summary>
public sealed record LlmClause(string InferenceId, int TurnIdx, int Index, string Text, bool IsFallback = false) : ThinkingEvent(InferenceId, TurnIdx);

/// <summary>The <c>tool_call</c> event: the LLM asks the application to run a function. The turn waits for its result.</summary>
public sealed record LlmToolCall(string InferenceId, int TurnIdx, string ToolCallId, string Name, string Arguments) : ThinkingEvent(InferenceId, TurnIdx);

/// <summary>Why the LLM stage could not answer normally.</summary>
public enum LlmErrorKind
{
    /// <summary>The endpoint could not be reached (refused, DNS, TLS).</summary>
    Unreachable,
    /// <summary>No first token within <see cref="LlmOptions.FirstTokenTimeout"/>.</summary>
    FirstTokenTimeout,
    /// <summary>The stream stopped for longer than <see cref="LlmOptions.StallTimeout"/>.</summary>
    Stalled,
    /// <summary>HTTP 429.</summary>
    RateLimited,
    /// <summary>HTTP 401 or 403: the key is wrong.</summary>
    Unauthorized,
    /// <summary>Any other HTTP error status.</summary>
    HttpError,
    /// <summary>The connection closed before the stream ended.</summary>
    ConnectionLost,
    /// <summary>The stream carried data that is not the protocol.</summary>
    MalformedResponse,
    /// <summary>A tool result did not arrive within <see cref="LlmOptions.ToolResultTimeout"/>.</summary>
    ToolResultTimeout,
    /// <summary>More tool rounds than <see cref="LlmOptions.MaxToolRounds"/>.</summary>
    TooManyToolRounds,
    /// <summary>The settings cannot work (no base URL, bad tool definition).</summary>
    Configuration,
    /// <summary>Anything else.</summary>
    Unexpected,
}

/// <summary>An error of the turn; a fallback clause follows it. The message never contains secrets.</summary>
public sealed record LlmError(string InferenceId, int TurnIdx, LlmErrorKind Kind, string Message, int? HttpStatus = null, TimeSpan? RetryAfter = null)
    : ThinkingEvent(InferenceId, TurnIdx);

/// <summary>How a turn ended.</summary>
public enum LlmTurnOutcome
{
    Completed,
    /// <summary>Cancelled by the caller (barge-in or a discarded speculation); the request was aborted.</summary>
    Interrupted,
    /// <summary>Ended by an error (a fallback clause was produced).</summary>
    Failed,
}

/// <summary>Per-turn latencies from the start of the turn (the request being sent), on the session's clock.</summary>
public sealed record LlmTurnMetrics(TimeSpan? FirstToken, TimeSpan? FirstClause, TimeSpan Total, int Requests);

/// <summary>The last event of every turn. <see cref="GeneratedText"/> is all assistant text the LLM produced (partial when interrupted).</summary>
public sealed record LlmTurnEnded(string InferenceId, int TurnIdx, LlmTurnOutcome Outcome, string GeneratedText, LlmTurnMetrics Metrics)
    : ThinkingEvent(InferenceId, TurnIdx);
