using Platform.Contracts;

namespace Platform.Render.Worker;

/// <summary>What starting a session came to.</summary>
public enum SessionStart
{
    /// <summary>It runs on this worker.</summary>
    Started = 0,
    /// <summary>The conversation has ended or no longer exists: the worker hands its slot back.</summary>
    ConversationOver = 1,
}

/// <summary>
/// Runs one conversation's session on this worker. <see cref="RenderWorker"/> calls it to reconcile with the pool's
/// assignments; calls for one worker never overlap. A start that throws is retried at the next heartbeat.
/// </summary>
public interface ISessionRunner
{
    /// <summary>Starts the session (returns once it runs; the session itself lives on in the background).</summary>
    Task<SessionStart> StartAsync(SessionAssignment assignment, CancellationToken cancellationToken);

    /// <summary>Stops the session (the conversation ended, moved, or the worker is leaving).</summary>
    Task StopAsync(ConversationId conversation, CancellationToken cancellationToken);
}
