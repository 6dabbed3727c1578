using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Conversations;

/// <summary>
/// The conversation's render slot: taken on the least-loaded live worker at creation (so the replica is warm when the
/// user arrives), released whenever the conversation ends. <c>test_mode</c> conversations take none.
/// </summary>
internal sealed partial class ConversationGrain
{
    private IRenderPoolGrain RenderPool => GrainFactory.GetGrain<IRenderPoolGrain>(Contracts.RenderPool.Key);

    /// <summary>Called by CreateAsync once the tenant slot is held: null when a worker slot is taken (or none is
    /// needed); otherwise the problem to return, with the tenant slot already given back, so nothing is left behind.</summary>
    private async Task<Problem?> TakeRenderSlotAsync(PersonaId persona, ReplicaId replica, JsonObject doc)
    {
        if (Json.Bool(doc, "test_mode") == true)
        {
            return null;
        }
        Result<SessionAssignment?> assigned;
        try
        {
            assigned = await RenderPool.AssignAsync(new SessionRequest(Id, replica, persona));
        }
        catch
        {
            await GrainFactory.GetGrain<ITenantGrain>(Id.Tenant.ToGrainKey()).ReleaseConversationSlotAsync(Id);
            throw;
        }
        if (assigned.IsOk)
        {
            return null;
        }
        await GrainFactory.GetGrain<ITenantGrain>(Id.Tenant.ToGrainKey()).ReleaseConversationSlotAsync(Id);
        return assigned.Problem;
    }

    /// <summary>Called when the conversation ends for any reason (and when its creation fails after the slot was
    /// taken). A failure here is logged, not thrown: the worker hands back a slot whose conversation is over.</summary>
    private async Task ReleaseRenderSlotAsync()
    {
        if (S.TestMode)
        {
            return;
        }
        try
        {
            await RenderPool.ReleaseAsync(Id);
        }
        catch (Exception e)
        {
            LogRenderReleaseFailed(Id.ToGrainKey(), e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {Conversation}: releasing its render slot failed; its worker will hand it back")]
    private partial void LogRenderReleaseFailed(string conversation, Exception e);
}
