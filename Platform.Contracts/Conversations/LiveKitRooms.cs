namespace Platform.Contracts;

/// <summary>
/// How conversations map onto LiveKit: each conversation's room is <c>conv.{tenant}.{conversation}</c> (the dots
/// cannot occur in our ids, so the name parses back); the end user joins as <c>user-{conversation}</c>; render
/// workers join with token kind <c>agent</c> and an identity starting <c>worker-</c>.
/// </summary>
public static class LiveKitRooms
{
    /// <summary>Every room of ours starts with this; rooms without it are never touched.</summary>
    public const string RoomPrefix = "conv.";

    /// <summary>Identities of render workers start with this.</summary>
    public const string RenderWorkerIdentityPrefix = "worker-";

    /// <summary>The end user's identity is this plus the conversation's local id.</summary>
    public const string EndUserIdentityPrefix = "user-";

    /// <summary>The room of <paramref name="id"/>.</summary>
    public static string RoomName(ConversationId id) => $"{RoomPrefix}{id.Tenant.Value}.{id.Local}";

    /// <summary>The end user's identity in the room of <paramref name="id"/>.</summary>
    public static string EndUserIdentity(ConversationId id) => EndUserIdentityPrefix + id.Local;

    /// <summary>The conversation a room belongs to; null for a room that is not ours.</summary>
    public static ConversationId? ConversationOf(string room)
    {
        if (!room.StartsWith(RoomPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        var parts = room[RoomPrefix.Length..].Split('.');
        return parts.Length == 2 && TenantId.IsValid(parts[0]) && ConversationId.IsValidLocal(parts[1])
            ? new ConversationId(new TenantId(parts[0]), parts[1])
            : null;
    }
}
