using System.Security.Cryptography;
using System.Text;
using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Conversations;

/// <summary>The conversation page's link check and what the page shows (<c>conversation_url</c>).</summary>
internal sealed partial class ConversationGrain
{
    public async Task<Result<ConversationPage>> OpenPageAsync(string urlToken, string? meetingToken)
    {
        if (BadLink(urlToken) is { } notFound)
        {
            return notFound;
        }
        var tenant = await GrainFactory.GetGrain<ITenantGrain>(Id.Tenant.ToGrainKey()).GetAsync();
        var branding = tenant?.Branding ?? new TenantBranding();
        var brandName = string.IsNullOrWhiteSpace(branding.DisplayName) ? tenant?.Name ?? "" : branding.DisplayName;
        var requireAuth = S.MeetingTokenHash is not null;
        if (requireAuth && !MeetingTokenMatches(S.MeetingTokenHash!, meetingToken))
        {
            return Result<ConversationPage>.Ok(new ConversationPage(Id, Authorized: false, "", null, false, false, branding, brandName, "", true, null));
        }
        var doc = Json.ParseObject(S.DocumentJson!);
        var replicaName = S.Replica is { } replica
            ? (await GrainFactory.GetGrain<IReplicaGrain>(replica.ToGrainKey()).GetAsync())?.Name
            : null;
        return Result<ConversationPage>.Ok(new ConversationPage(
            Id,
            Authorized: true,
            S.Status,
            S.ShutdownReason,
            AudioOnly: Json.Bool(doc, "audio_only") == true,
            ClosedCaptions: Json.Bool(Json.Obj(doc, "properties"), "enable_closed_captions") == true,
            branding,
            brandName,
            replicaName ?? "",
            requireAuth,
            Json.Str(doc, "conversation_name"),
            S.LiveKitRoom is not null && Rooms.Enabled ? Rooms.PublicUrl : null));
    }

    public Task<Result<LiveKitJoin>> OpenPageLiveKitAsync(string urlToken, string? meetingToken)
    {
        if (BadLink(urlToken) is { } notFound)
        {
            return Task.FromResult<Result<LiveKitJoin>>(notFound);
        }
        if (S.MeetingTokenHash is { } hash && !MeetingTokenMatches(hash, meetingToken))
        {
            return Task.FromResult<Result<LiveKitJoin>>(Problem.Field(ProblemKind.Forbidden, "meeting_token", "This conversation needs its meeting token."));
        }
        return Task.FromResult(PageLiveKitJoin());
    }

    /// <summary>One answer for "no such conversation" and "wrong token", so a link cannot be used to probe for ids.</summary>
    private Problem? BadLink(string urlToken)
    {
        if (!Exists)
        {
            DeactivateOnIdle();
            return Problem.NotFound("conversation link", Id.Local);
        }
        // Avatar mode has no page: its end users are in the tenant's own room.
        return S.Avatar is null && TokenMatches(S.Url, urlToken) ? null : Problem.NotFound("conversation link", Id.Local);
    }

    /// <summary>Compares the presented token with the last segment of the stored URL in constant time.</summary>
    private static bool TokenMatches(string url, string? presented)
    {
        var slash = url.LastIndexOf('/');
        var expected = Encoding.UTF8.GetBytes(slash < 0 ? "" : url[(slash + 1)..]);
        var given = Encoding.UTF8.GetBytes(presented ?? "");
        return expected.Length > 0 && CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private static bool MeetingTokenMatches(string storedHash, string? presented) =>
        !string.IsNullOrEmpty(presented)
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(storedHash), Encoding.ASCII.GetBytes(Hash(presented)));
}
