using Microsoft.Extensions.Options;
using Platform.Contracts;

namespace Platform.Render.Worker;

/// <summary>
/// The session runner until the pipeline is wired in: it runs no media and only reports the replica's presence to the
/// conversation's record (joined on start, left on stop) under this worker's id, which is what the pool, timeouts and
/// billing read. The real runner does the same around the pipeline.
/// </summary>
public sealed class PresenceSessionRunner(IGrainFactory grains, IOptions<RenderOptions> options) : ISessionRunner
{
    private string WorkerId => options.Value.WorkerId!;

    public async Task<SessionStart> StartAsync(SessionAssignment assignment, CancellationToken cancellationToken)
    {
        var joined = await grains.GetGrain<IConversationGrain>(assignment.Conversation.ToGrainKey()).JoinedAsync(PresenceRole.Replica, WorkerId);
        return joined.Problem switch
        {
            null => SessionStart.Started,
            { Kind: ProblemKind.NotFound or ProblemKind.Conflict } => SessionStart.ConversationOver,
            { } problem => throw new InvalidOperationException($"Conversation {assignment.Conversation} refused the replica: {problem.Detail}"),
        };
    }

    public async Task StopAsync(ConversationId conversation, CancellationToken cancellationToken) =>
        // An ended or deleted conversation answers a problem: nothing left to report then.
        await grains.GetGrain<IConversationGrain>(conversation.ToGrainKey()).LeftAsync(PresenceRole.Replica, WorkerId);
}
