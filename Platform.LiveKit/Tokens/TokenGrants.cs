namespace Platform.LiveKit.Tokens;

/// <summary>
/// Everything in a LiveKit access token besides <c>iss</c>, <c>nbf</c> and <c>exp</c>: identity (<c>sub</c>) and
/// LiveKit's claims. Empty values are omitted from the token.
/// </summary>
public sealed record TokenGrants
{
    /// <summary><c>sub</c>: the participant identity (required to join a room).</summary>
    public string? Identity { get; init; }
    /// <summary><c>name</c>: display name.</summary>
    public string? Name { get; init; }
    /// <summary><c>kind</c>: <c>standard</c>, <c>agent</c>, ... (see <see cref="TokenKinds"/>).</summary>
    public string? Kind { get; init; }
    /// <summary><c>metadata</c>: participant metadata set on join.</summary>
    public string? Metadata { get; init; }
    /// <summary><c>attributes</c>: participant attributes set on join.</summary>
    public IReadOnlyDictionary<string, string>? Attributes { get; init; }
    /// <summary><c>sha256</c>: base64 SHA-256 of a body (webhooks).</summary>
    public string? Sha256 { get; init; }
    /// <summary><c>video</c>: the room grants.</summary>
    public VideoGrant? Video { get; init; }
    /// <summary><c>roomConfig</c>: configuration for a room created on join.</summary>
    public RoomConfiguration? RoomConfig { get; init; }
}

/// <summary>The <c>roomConfig</c> claim (<c>livekit.RoomConfiguration</c>), the fields this platform uses.</summary>
public sealed record RoomConfiguration
{
    /// <summary><c>name</c>.</summary>
    public string? Name { get; init; }
    /// <summary><c>emptyTimeout</c> in seconds.</summary>
    public uint EmptyTimeout { get; init; }
    /// <summary><c>departureTimeout</c> in seconds.</summary>
    public uint DepartureTimeout { get; init; }
    /// <summary><c>maxParticipants</c>.</summary>
    public uint MaxParticipants { get; init; }
    /// <summary><c>metadata</c>.</summary>
    public string? Metadata { get; init; }
}

/// <summary>Values of the token's <c>kind</c> claim.</summary>
public static class TokenKinds
{
    /// <summary>An end user.</summary>
    public const string Standard = "standard";
    /// <summary>An agent: our render worker.</summary>
    public const string Agent = "agent";
    /// <summary>An egress worker.</summary>
    public const string Egress = "egress";
    /// <summary>An ingress.</summary>
    public const string Ingress = "ingress";
    /// <summary>A SIP participant.</summary>
    public const string Sip = "sip";
}

/// <summary>Participant attribute names LiveKit's agent framework gives meaning to.</summary>
public static class AgentAttributes
{
    /// <summary>Set on an avatar worker's token: the identity of the participant whose speech it renders.</summary>
    public const string PublishOnBehalf = "lk.publish_on_behalf";
}
