namespace Platform.Contracts;

/// <summary>
/// What one participant needs to join a conversation's LiveKit room: the server's URL, the room, the identity the
/// token grants and the token itself (short-lived; ask again for each join).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record LiveKitJoin(
    [property: Id(0)] string Url,
    [property: Id(1)] string Room,
    [property: Id(2)] string Identity,
    [property: Id(3)] string Token,
    [property: Id(4)] DateTimeOffset ExpiresAt)
{
    /// <summary>Never the token.</summary>
    public override string ToString() => $"LiveKitJoin {{ Url = {Url}, Room = {Room}, Identity = {Identity}, ExpiresAt = {ExpiresAt:O} }}";
}
