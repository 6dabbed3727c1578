using Platform.Contracts;
using Platform.LiveKit;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.LiveKit;

/// <summary>
/// Finds LiveKit rooms that outlived their conversation and deletes them: every <see cref="SweepPeriod"/> (on the silo's
/// TimeProvider) it lists the rooms (ListRooms) and deletes each room of ours whose conversation has ended or does not
/// exist. It retries the deletes done in the background when a conversation ends. A room being created belongs to a
/// conversation grain in the middle of its create call; the grain answers the sweep's question only after that call,
/// so a new room is never taken for an orphan. Every silo runs one; a duplicate delete is harmless.
/// </summary>
public sealed partial class LiveKitRoomSweeper(ConversationRooms rooms, IGrainFactory grains, TimeProvider time, ILogger<LiveKitRoomSweeper> logger)
    : PeriodicService(time, logger)
{
    public static readonly TimeSpan SweepPeriod = TimeSpan.FromMinutes(1);

    protected override TimeSpan Period => SweepPeriod;

    protected override bool Enabled => rooms.Enabled;

    protected override Task RunPassAsync(CancellationToken stoppingToken) => SweepOnceAsync(stoppingToken);

    /// <summary>One pass; returns the rooms deleted.</summary>
    public async Task<IReadOnlyList<string>> SweepOnceAsync(CancellationToken cancellationToken = default)
    {
        if (!rooms.Enabled)
        {
            return [];
        }
        var deleted = new List<string>();
        foreach (var room in await rooms.Client().ListRoomsAsync(cancellationToken: cancellationToken))
        {
            if (LiveKitRooms.ConversationOf(room.Name) is not { } id)
            {
                continue;
            }
            var conversation = await grains.GetGrain<IConversationGrain>(id.ToGrainKey()).GetAsync(false);
            if (conversation is { Status: ConversationStatus.Active })
            {
                continue;
            }
            if (await rooms.DeleteAsync(room.Name, cancellationToken))
            {
                LogOrphanDeleted(room.Name, conversation is null ? "missing" : "ended");
                deleted.Add(room.Name);
            }
        }
        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "LiveKit room {Room} deleted by the sweep: its conversation is {State}")]
    private partial void LogOrphanDeleted(string room, string state);

}
