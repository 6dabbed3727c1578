using Platform.Contracts;

namespace Platform.Render.Worker;

public sealed partial class RenderWorker
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Render worker {Worker} starting: {MaxSessions} sessions, {Device}, {Backend}")]
    private partial void LogStarting(string worker, int maxSessions, RenderDevice device, string backend);

    [LoggerMessage(Level = LogLevel.Information, Message = "Render worker {Worker} registered with the render pool; {Sessions} sessions assigned")]
    private partial void LogRegistered(string worker, int sessions);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat period {PeriodMs} ms is too long for the pool's {LostAfterMs} ms bound: this worker may be declared lost while alive")]
    private partial void LogPeriodTooLong(double periodMs, double lostAfterMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Heartbeat to the render pool failed; retrying next period")]
    private partial void LogHeartbeatFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "Render worker {Worker} draining {Sessions} sessions (up to {TimeoutS} s)")]
    private partial void LogDraining(string worker, int sessions, double timeoutS);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drain cut short; handing the remaining sessions back")]
    private partial void LogDrainCut(Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Leaving the render pool failed; it will declare this worker lost")]
    private partial void LogLeaveFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "Render worker {Worker} drained; {HandedBack} sessions handed back")]
    private partial void LogDrained(string worker, int handedBack);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {Conversation} started (attempt {Attempt})")]
    private partial void LogSessionStarted(string conversation, int attempt);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {Conversation} stopped")]
    private partial void LogSessionStopped(string conversation);

    [LoggerMessage(Level = LogLevel.Information, Message = "Conversation {Conversation} is over; its slot goes back to the pool")]
    private partial void LogConversationOver(string conversation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {Conversation} failed to start; retrying next heartbeat")]
    private partial void LogSessionStartFailed(string conversation, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session {Conversation} failed to stop cleanly")]
    private partial void LogSessionStopFailed(string conversation, Exception e);
}
