namespace Platform.Silo.Conversations;

public sealed partial class ConversationState
{
    /// <summary>Avatar mode: the tenant's own LiveKit room the replica joins as its agent's face; null otherwise.</summary>
    [Id(120)] public AvatarRoomState? Avatar { get; set; }
}

/// <summary>
/// What avatar mode keeps of <c>properties.livekit_ws_url</c> and <c>properties.livekit_room_token</c>: the room,
/// identities and expiry read from the token's claims, and the token itself encrypted (it lets its holder into the
/// tenant's room); the token never stays in the conversation's document.
/// </summary>
[GenerateSerializer]
public sealed record AvatarRoomState(
    [property: Id(0)] string Url,
    [property: Id(1)] string Room,
    [property: Id(2)] string Identity,
    [property: Id(3)] string AgentIdentity,
    [property: Id(4)] DateTimeOffset ExpiresAt,
    [property: Id(5)] string ProtectedToken);
