using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.LiveKit.Tokens;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Conversations;

/// <summary>
/// Avatar mode, as LiveKit's avatar plugins use it: <c>properties.livekit_ws_url</c> and
/// <c>properties.livekit_room_token</c> put the replica into the tenant's own LiveKit room as the face of their agent.
/// The token is the tenant's (minted with their key for the identity our worker takes, <c>kind=agent</c>, and the
/// attribute <c>lk.publish_on_behalf</c> naming their agent); we cannot verify it, so its claims are checked for what
/// the worker needs, it is kept encrypted, and only the worker running the conversation gets it back. No room of ours
/// is created, and the conversation has no page (its link answers the neutral not-found).
/// </summary>
internal sealed partial class ConversationGrain
{
    private const string AvatarUrlField = "properties.livekit_ws_url";
    private const string AvatarTokenField = "properties.livekit_room_token";

    private SecretProtector Secrets => ServiceProvider.GetRequiredService<SecretProtector>();

    private string AvatarTokenPurpose => $"{Id.ToGrainKey()}/livekit_room_token";

    /// <summary>
    /// Reads avatar mode's two properties (both or neither) and checks the token's claims; on success the token is
    /// taken out of <paramref name="doc"/> (it is never stored in the clear nor returned).
    /// </summary>
    private Result<AvatarRoomState?> TakeAvatarRoom(JsonObject doc)
    {
        var props = Json.Obj(doc, "properties");
        var url = Json.Str(props, "livekit_ws_url");
        var token = Json.Str(props, "livekit_room_token")?.Trim();
        if (url is null && token is null)
        {
            return Result<AvatarRoomState?>.Ok(null);
        }
        if (url is null)
        {
            return Problem.Field(ProblemKind.Unprocessable, AvatarUrlField,
                $"'{AvatarUrlField}' is required with '{AvatarTokenField}': avatar mode needs the URL of your LiveKit server.");
        }
        if (token is null)
        {
            return Problem.Field(ProblemKind.Unprocessable, AvatarTokenField,
                $"'{AvatarTokenField}' is required with '{AvatarUrlField}': avatar mode needs a token for the replica to join your room.");
        }
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("wss" or "ws" or "https" or "http") || uri.UserInfo.Length > 0)
        {
            return Problem.Field(ProblemKind.Unprocessable, AvatarUrlField,
                $"'{AvatarUrlField}' must be your LiveKit server's wss:// (or ws://, https://, http://) URL.");
        }
        if (!LiveKitTokenVerifier.TryReadUnverified(token, out var claims))
        {
            return Problem.Field(ProblemKind.Unprocessable, AvatarTokenField, $"'{AvatarTokenField}' is not a LiveKit access token (a JWT).");
        }
        var g = claims!.Grants;
        string? TokenProblem()
        {
            if (g.Video is not { RoomJoin: true, Room.Length: > 0 }) return "must grant roomJoin for one room (video.room)";
            if (g.Video.CanPublish == false) return "must allow publishing (the replica's audio and video)";
            if (string.IsNullOrWhiteSpace(g.Identity)) return "must name the identity the replica joins as (sub)";
            if (g.Kind is { } kind && kind != TokenKinds.Agent) return $"must be minted with kind 'agent', as avatar workers join (it has '{kind}')";
            if (g.Attributes?.GetValueOrDefault(AgentAttributes.PublishOnBehalf) is not { Length: > 0 }) return $"must set the attribute '{AgentAttributes.PublishOnBehalf}' to your agent's identity";
            if (claims.ExpiresAt is not { } exp) return "must have an expiry (exp)";
            if (exp <= time.GetUtcNow()) return $"expired at {exp:O}";
            return null;
        }
        if (TokenProblem() is { } why)
        {
            return Problem.Field(ProblemKind.Unprocessable, AvatarTokenField, $"'{AvatarTokenField}' {why}.");
        }
        props!.Remove("livekit_room_token");
        return Result<AvatarRoomState?>.Ok(new AvatarRoomState(uri.AbsoluteUri.TrimEnd('/'), g.Video!.Room!, g.Identity!,
            g.Attributes![AgentAttributes.PublishOnBehalf], claims.ExpiresAt!.Value, Secrets.Protect(token, AvatarTokenPurpose)));
    }

    /// <summary>The render worker's join of the tenant's room: their URL and token, while the token is valid.</summary>
    private Result<LiveKitJoin> AvatarJoin(AvatarRoomState avatar)
    {
        if (avatar.ExpiresAt <= time.GetUtcNow())
        {
            return Problem.Field(ProblemKind.Conflict, AvatarTokenField,
                $"The LiveKit token for room '{avatar.Room}' expired at {avatar.ExpiresAt:O}; create the conversation again with a fresh one.");
        }
        return Result<LiveKitJoin>.Ok(new LiveKitJoin(avatar.Url, avatar.Room, avatar.Identity,
            Secrets.Unprotect(avatar.ProtectedToken, AvatarTokenPurpose), avatar.ExpiresAt));
    }
}
