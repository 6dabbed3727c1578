using Platform.Contracts;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

/// <summary>Conversation timeouts and request rates, on the cluster's logical clock.</summary>
[Collection(ApiCollection.Name)]
public sealed class LimitsTests(ApiFixture fx)
{
    private IConversationGrain Grain(TenantClient t, string id) =>
        fx.Cluster.Client.GetGrain<IConversationGrain>(new ConversationId(t.Tenant, id).ToGrainKey());

    private async Task<ConversationInfo> EndedAsync(TenantClient t, string id) =>
        await Eventually.ReturnsAsync(async () => (await Grain(t, id).GetAsync(false))!, c => c.Status == ConversationStatus.Ended, $"conversation {id} ending");

    [Fact]
    public async Task Nobody_joining_ends_it_at_the_absent_timeout()
    {
        using var t = await fx.NewTenantAsync();
        var id = (await t.ConversationAsync(await t.PersonaAsync(), ""","properties":{"participant_absent_timeout":30}"""))["conversation_id"]!.GetValue<string>();
        var created = (await Grain(t, id).GetAsync(false))!.CreatedAt;
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(ConversationStatus.Active, (await Grain(t, id).GetAsync(false))!.Status);
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(1));
        var ended = await EndedAsync(t, id);
        Assert.Equal(ShutdownReasons.ParticipantAbsentTimeout, ended.ShutdownReason);
        Assert.Equal(created.AddSeconds(30), ended.EndedAt);
        var body = await Json(await t.Http.GetAsync($"/v2/conversations/{id}?verbose=true"));
        Assert.Equal(ShutdownReasons.ParticipantAbsentTimeout, body["shutdown_reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_last_participant_leaving_ends_it_after_the_left_timeout()
    {
        using var t = await fx.NewTenantAsync();
        var id = (await t.ConversationAsync(await t.PersonaAsync(), ""","properties":{"participant_left_timeout":60,"participant_absent_timeout":30}"""))["conversation_id"]!.GetValue<string>();
        await Grain(t, id).JoinedAsync(PresenceRole.Participant, "user-1");
        await Grain(t, id).JoinedAsync(PresenceRole.Participant, "user-2");
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(100)); // past the absent timeout: someone joined, so nothing ends
        await Grain(t, id).LeftAsync(PresenceRole.Participant, "user-1");
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(100)); // one participant is still there
        Assert.Equal(ConversationStatus.Active, (await Grain(t, id).GetAsync(false))!.Status);
        await Grain(t, id).LeftAsync(PresenceRole.Participant, "user-2");
        var leftAt = fx.Cluster.Time.GetUtcNow();
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(ConversationStatus.Active, (await Grain(t, id).GetAsync(false))!.Status);
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(1));
        var ended = await EndedAsync(t, id);
        Assert.Equal(ShutdownReasons.ParticipantLeftTimeout, ended.ShutdownReason);
        Assert.Equal(leftAt.AddSeconds(60), ended.EndedAt);
        var events = (await Grain(t, id).GetAsync(true))!.Events!.Select(e => e.EventType).Where(e => e != "system.warning").ToList();
        Assert.Equal(["system.participant_joined", "system.participant_joined", "system.participant_left", "system.participant_left", "system.shutdown", "application.transcription_ready"], events);
        // An ended conversation takes no more presence.
        var late = await Grain(t, id).JoinedAsync(PresenceRole.Participant, "user-3");
        Assert.Equal(ProblemKind.Conflict, late.Problem!.Kind);
    }

    [Fact]
    public async Task A_participant_returning_in_time_keeps_it_alive()
    {
        using var t = await fx.NewTenantAsync();
        var id = (await t.ConversationAsync(await t.PersonaAsync(), ""","properties":{"participant_left_timeout":60}"""))["conversation_id"]!.GetValue<string>();
        await Grain(t, id).JoinedAsync(PresenceRole.Participant, "u");
        await Grain(t, id).LeftAsync(PresenceRole.Participant, "u");
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(50));
        await Grain(t, id).JoinedAsync(PresenceRole.Participant, "u");
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal(ConversationStatus.Active, (await Grain(t, id).GetAsync(false))!.Status);
    }

    [Fact]
    public async Task Max_call_duration_ends_a_call_in_progress()
    {
        using var t = await fx.NewTenantAsync();
        var id = (await t.ConversationAsync(await t.PersonaAsync(), ""","properties":{"max_call_duration":600}"""))["conversation_id"]!.GetValue<string>();
        var created = (await Grain(t, id).GetAsync(false))!.CreatedAt;
        await Grain(t, id).JoinedAsync(PresenceRole.Participant, "u");
        await Grain(t, id).JoinedAsync(PresenceRole.Replica, "worker-1");
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(600));
        var ended = await EndedAsync(t, id);
        Assert.Equal(ShutdownReasons.MaxCallDuration, ended.ShutdownReason);
        Assert.Equal(created.AddSeconds(600), ended.EndedAt);
    }

    [Fact]
    public async Task Requests_per_second_are_limited_per_key_with_retry_after()
    {
        using var t = await fx.NewTenantAsync("""{"requests_per_second":3}""");
        for (var i = 0; i < 3; i++)
        {
            await Json(await t.Http.GetAsync("/v2/personas"));
        }
        var limited = await t.Http.GetAsync("/v2/personas");
        var problem = await Json(limited, 429);
        Assert.Equal("1", limited.Headers.GetValues("Retry-After").Single());
        Assert.Equal(3, problem["limit"]!.GetValue<int>());
        fx.Cluster.Time.Advance(TimeSpan.FromSeconds(1));
        await Json(await t.Http.GetAsync("/v2/personas"));
        // Another key of another tenant is not affected.
        using var other = await fx.NewTenantAsync();
        await Json(await other.Http.GetAsync("/v2/personas"));
    }
}
