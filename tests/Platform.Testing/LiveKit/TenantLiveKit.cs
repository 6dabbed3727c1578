using Platform.LiveKit;
using Platform.LiveKit.Tokens;

namespace Platform.Testing.LiveKit;

/// <summary>
/// A tenant's own LiveKit for avatar-mode tests: its URL, and a token for our worker minted with the tenant's key as
/// LiveKit's avatar plugins mint it (kind agent, <c>lk.publish_on_behalf</c> = the tenant's agent, joining their room).
/// </summary>
public static class TenantLiveKit
{
    public const string Url = "wss://livekit.tenant.example";
    public const string Room = "support-room-42";
    public const string Agent = "agent-7";
    public const string WorkerIdentity = "avatar-worker";

    /// <summary>The token, optionally changed (to make it unable to do the job) or with another lifetime (default 1 h).</summary>
    public static string Token(TimeProvider time, Func<TokenGrants, TokenGrants>? change = null, TimeSpan? lifetime = null)
    {
        var issuer = new LiveKitTokenIssuer(new LiveKitOptions { Url = Url, ApiKey = "APItenantKey", ApiSecret = "tenant-secret-0123456789abcdef0123456789abcdef" }, time);
        var grants = new TokenGrants
        {
            Identity = WorkerIdentity,
            Name = "Avatar",
            Kind = TokenKinds.Agent,
            Attributes = new Dictionary<string, string> { ["lk.publish_on_behalf"] = Agent },
            Video = new VideoGrant { RoomJoin = true, Room = Room },
        };
        return issuer.CreateToken(change?.Invoke(grants) ?? grants, lifetime ?? TimeSpan.FromHours(1));
    }
}
