using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.LiveKit.Rooms;
using Platform.Silo.Infrastructure;
using Platform.Silo.LiveKit;

namespace Platform.Silo.Conversations;

/// <summary>
/// The conversation's LiveKit room: created inside the create call (bounded by LiveKit's request timeout; a failure
/// undoes the create), deleted in the background when the conversation ends (the room sweep retries), and the end
/// user's token in the create and get answers. Presence comes from LiveKit's webhooks through
/// <see cref="ConversationGrain.JoinedAsync"/>/<see cref="ConversationGrain.LeftAsync"/> and the two methods here.
/// </summary>
internal sealed partial class ConversationGrain
{
    /// <summary>Seconds the client is told to wait before retrying a create that LiveKit failed.</summary>
    public const string RoomRetryAfterSeconds = "5";

    private ConversationRooms Rooms => ServiceProvider.GetRequiredService<ConversationRooms>();

    /// <summary>
    /// Called once the new state is built and its slot held, before anything is saved: creates the room. On failure
    /// the slot is released and the state dropped, so nothing of the conversation remains.
    /// </summary>
    private async Task<Problem?> OpenRoomAsync()
    {
        var rooms = Rooms;
        if (!rooms.Enabled || S.TestMode || S.Avatar is not null)
        {
            return null;
        }
        var doc = Json.ParseObject(S.DocumentJson!);
        try
        {
            S.LiveKitRoom = await rooms.CreateAsync(Id, TimeSpan.FromSeconds(S.Limits.ParticipantAbsentTimeout),
                TimeSpan.FromSeconds(S.Limits.ParticipantLeftTimeout), (int?)Json.Int(doc, "max_participants"));
            return null;
        }
        catch (Exception e) when (e is LiveKitException or ArgumentException)
        {
            LogRoomCreateFailed(Id.ToGrainKey(), (e as LiveKitException)?.Code ?? "invalid", e);
            await UndoCreateAsync();
            var code = (e as LiveKitException)?.Code ?? "invalid_argument";
            return new Problem(ProblemKind.Unavailable,
                $"The conversation's media room could not be created (LiveKit: {code}); nothing was created. Retry shortly.",
                [],
                new Dictionary<string, string> { ["retry_after"] = RoomRetryAfterSeconds, ["livekit_error"] = code });
        }
    }

    /// <summary>Deletes the room without waiting (called when the conversation ends or its create is undone).</summary>
    private void CloseRoom()
    {
        if (S.LiveKitRoom is { } room && Rooms.Enabled)
        {
            Rooms.DeleteInBackground(room);
        }
    }

    /// <summary>The info with the room's URL and name (no token: this is what the index stores).</summary>
    private ConversationInfo WithRoom(ConversationInfo info) =>
        S.LiveKitRoom is { } room && Rooms.Enabled ? info with { LiveKitUrl = Rooms.PublicUrl, LiveKitRoom = room } : info;

    /// <summary>Adds the end user's token while the conversation is live, valid until its maximum duration.</summary>
    private ConversationInfo WithUserToken(ConversationInfo info)
    {
        if (S.LiveKitRoom is not { } room || S.Status != ConversationStatus.Active || !Rooms.Enabled)
        {
            return info;
        }
        return Rooms.UserToken(Id, room, "Participant", CallDeadline) is { } t
            ? info with { LiveKitToken = t.Token, LiveKitTokenExpiresAt = t.ExpiresAt }
            : info;
    }

    public async Task<Result<LiveKitJoin>> GetRenderWorkerJoinAsync(string workerId)
    {
        if (Refuse(workerId) is { } problem)
        {
            return problem;
        }
        if (S.Avatar is { } avatar)
        {
            return AvatarJoin(avatar);
        }
        if (NotOnLiveKit() is { } off)
        {
            return off;
        }
        var name = S.Replica is { } r ? (await GrainFactory.GetGrain<IReplicaGrain>(r.ToGrainKey()).GetAsync())?.Name : null;
        return Rooms.RenderWorkerToken(Id, S.LiveKitRoom!, workerId, name ?? "Replica", CallDeadline) is { } t
            ? Result<LiveKitJoin>.Ok(new LiveKitJoin(Rooms.PublicUrl, S.LiveKitRoom!, LiveKitRooms.RenderWorkerIdentityPrefix + workerId, t.Token, t.ExpiresAt))
            : CallOver();
    }

    /// <summary>The end user's join for the page (its link already checked), or why there is none.</summary>
    private Result<LiveKitJoin> PageLiveKitJoin()
    {
        if (S.Status != ConversationStatus.Active)
        {
            return Problem.Field(ProblemKind.Conflict, "status", $"Conversation '{Id.Local}' has ended ({S.ShutdownReason}).");
        }
        if (NotOnLiveKit() is { } off)
        {
            return off;
        }
        return Rooms.UserToken(Id, S.LiveKitRoom!, "Participant", CallDeadline) is { } t
            ? Result<LiveKitJoin>.Ok(new LiveKitJoin(Rooms.PublicUrl, S.LiveKitRoom!, LiveKitRooms.EndUserIdentity(Id), t.Token, t.ExpiresAt))
            : CallOver();
    }

    private DateTimeOffset CallDeadline => S.CreatedAt.AddSeconds(S.Limits.MaxCallDuration);

    private Problem? NotOnLiveKit() => S.LiveKitRoom is null || !Rooms.Enabled
        ? Problem.Field(ProblemKind.Conflict, "livekit", $"Conversation '{Id.Local}' does not use LiveKit (its media goes through the embedded transport).")
        : null;

    private Problem CallOver() =>
        Problem.Field(ProblemKind.Conflict, "max_call_duration", $"Conversation '{Id.Local}' has reached its maximum duration.");

    public async Task<Result<ConversationInfo>> RoomFinishedAsync()
    {
        if (Refuse("room") is { } problem)
        {
            return problem;
        }
        foreach (var participant in S.Presence.Participants.ToList())
        {
            await LeftAsync(PresenceRole.Participant, participant);
        }
        if (S.Presence.Replica is { } replica && S.Status == ConversationStatus.Active)
        {
            await LeftAsync(PresenceRole.Replica, replica);
        }
        return Result<ConversationInfo>.Ok(Info());
    }

    public async Task<Result<ConversationInfo>> TrackPublishedAsync(PresenceRole role, string identity, PublishedTrack track)
    {
        if (Refuse(identity) is { } problem)
        {
            return problem;
        }
        var props = new JsonObject
        {
            [role == PresenceRole.Participant ? "participant_id" : "worker"] = identity,
            ["track_sid"] = track.Sid,
            ["track_type"] = track.Type,
            ["source"] = track.Source,
            ["name"] = track.Name,
            ["mime_type"] = track.MimeType,
        };
        S.UpdatedAt = time.GetUtcNow();
        await SaveAsync([NewEvent("system.track_published", "system", props)]);
        return Result<ConversationInfo>.Ok(Info());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Conversation {Conversation} not created: LiveKit CreateRoom failed ({Code})")]
    private partial void LogRoomCreateFailed(string conversation, string code, Exception e);
}
