using Microsoft.Extensions.Logging;

namespace Platform.Render.Thinking;

public sealed partial class LlmConversation
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "LLM turn {InferenceId} (turn {TurnIdx}) started with model {Model}")]
    private static partial void LogTurnStarted(ILogger logger, string inferenceId, int turnIdx, string model);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "LLM turn {InferenceId} failed: {Kind} (HTTP {Status}, {Detail}); speaking the fallback")]
    private static partial void LogTurnFailed(ILogger logger, string inferenceId, LlmErrorKind kind, int? status, string detail);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Error, Message = "LLM turn {InferenceId} failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string inferenceId);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Tool result for {ToolCallId} ignored: no turn is waiting for it")]
    private static partial void LogToolResultIgnored(ILogger logger, string toolCallId);
}
