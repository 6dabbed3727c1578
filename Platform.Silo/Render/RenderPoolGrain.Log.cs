using Platform.Contracts;

namespace Platform.Silo.Render;

internal sealed partial class RenderPoolGrain
{
    [LoggerMessage(Level = LogLevel.Information, Message = "Render pool active: {Workers} workers, {Sessions} sessions from storage")]
    private partial void LogActivated(int workers, int sessions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Render worker {Worker} registered: {MaxSessions} sessions, {Device}, {Backend}, version {Version}")]
    private partial void LogRegistered(string worker, int maxSessions, RenderDevice device, string backend, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Render worker {Worker} is draining with {Sessions} sessions")]
    private partial void LogDraining(string worker, int sessions);

    [LoggerMessage(Level = LogLevel.Information, Message = "Render worker {Worker} left; {Moved} sessions moved to other workers")]
    private partial void LogLeft(string worker, int moved);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Render worker {Worker} lost after {SilentMs} ms without a heartbeat; {Moved} sessions moved, {Waiting} waiting for a free slot")]
    private partial void LogLost(string worker, double silentMs, int moved, int waiting);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No render capacity for conversation {Conversation} ({LiveWorkers} live workers)")]
    private partial void LogNoCapacity(string conversation, int liveWorkers);
}
