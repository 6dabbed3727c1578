namespace Platform.Contracts;

/// <summary>
/// What the conversation page (<c>conversation_url</c>) needs to render: the call's state and the tenant's branding.
/// Returned by <see cref="IConversationGrain.OpenPageAsync"/> only for a valid link.
/// </summary>
/// <param name="Id">The conversation.</param>
/// <param name="Authorized">False when the conversation has <c>require_auth</c> and no valid meeting token was given:
/// then only <see cref="Branding"/>, <see cref="BrandName"/> and <see cref="RequireAuth"/> are filled in.</param>
/// <param name="Status"><c>active</c> or <c>ended</c>.</param>
/// <param name="ShutdownReason">Why it ended (null while active).</param>
/// <param name="AudioOnly">The call has no video: the page shows a tile instead of the replica's face.</param>
/// <param name="ClosedCaptions"><c>properties.enable_closed_captions</c>.</param>
/// <param name="Branding">The tenant's branding.</param>
/// <param name="BrandName">The name shown on the page: the branding's display name, else the tenant's name.</param>
/// <param name="ReplicaName">The replica's name (who the user talks to).</param>
/// <param name="RequireAuth">The conversation needs its meeting token.</param>
/// <param name="ConversationName">The conversation's name, when the developer gave one.</param>
/// <param name="LiveKitUrl">The LiveKit server the call's media goes through (the page joins with livekit-client and
/// asks <see cref="IConversationGrain.OpenPageLiveKitAsync"/> for its token); null: the embedded transport.</param>
[GenerateSerializer, Immutable]
public sealed record ConversationPage(
    [property: Id(0)] ConversationId Id,
    [property: Id(1)] bool Authorized,
    [property: Id(2)] string Status,
    [property: Id(3)] string? ShutdownReason,
    [property: Id(4)] bool AudioOnly,
    [property: Id(5)] bool ClosedCaptions,
    [property: Id(6)] TenantBranding Branding,
    [property: Id(7)] string BrandName,
    [property: Id(8)] string ReplicaName,
    [property: Id(9)] bool RequireAuth,
    [property: Id(10)] string? ConversationName,
    [property: Id(11)] string? LiveKitUrl = null);
