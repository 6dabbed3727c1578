using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Platform.Contracts;
using Platform.LiveKit;
using Platform.LiveKit.Tokens;
using Platform.Silo.LiveKit;

namespace Platform.Silo.Tests.LiveKit;

public sealed class ConversationRoomsTests
{
    private static readonly LiveKitOptions Options = new() { Url = "wss://lk.example.com", ApiKey = "APIkey", ApiSecret = "a-secret-of-enough-length-0123456789abcdef" };

    private static ConversationRooms Rooms(LiveKitOptions options, TimeProvider time) =>
        new(Microsoft.Extensions.Options.Options.Create(options), new ServiceCollection().AddHttpClient().BuildServiceProvider().GetRequiredService<IHttpClientFactory>(),
            time, NullLogger<ConversationRooms>.Instance);

    [Fact]
    public void Room_names_round_trip_and_foreign_rooms_are_not_ours()
    {
        var id = ConversationId.New(TenantId.New());
        var name = LiveKitRooms.RoomName(id);
        Assert.Equal(id, LiveKitRooms.ConversationOf(name));
        Assert.Null(LiveKitRooms.ConversationOf("lobby"));
        Assert.Null(LiveKitRooms.ConversationOf($"conv.{id.Tenant.Value}"));
        Assert.Null(LiveKitRooms.ConversationOf($"conv.{id.Tenant.Value}.{id.Local}.x"));
        Assert.Null(LiveKitRooms.ConversationOf($"conv.TN_X.{id.Local}"));
    }

    [Fact]
    public void The_user_token_ends_at_the_conversations_deadline_and_none_is_issued_after_it()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var rooms = Rooms(Options, time);
        var id = ConversationId.New(TenantId.New());
        var deadline = time.GetUtcNow().AddMinutes(10);
        var (token, expires) = rooms.UserToken(id, LiveKitRooms.RoomName(id), "Participant", deadline)!.Value;
        Assert.Equal(deadline, expires);
        var verified = new LiveKitTokenVerifier(Options, time).Verify(token);
        Assert.Equal(deadline, verified.ExpiresAt);
        Assert.Equal(LiveKitRooms.EndUserIdentity(id), verified.Grants.Identity);
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(rooms.UserToken(id, LiveKitRooms.RoomName(id), "Participant", deadline));
    }

    [Fact]
    public void The_render_worker_token_is_an_agent_publishing_for_the_end_user()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var id = ConversationId.New(TenantId.New());
        var (token, _) = Rooms(Options, time).RenderWorkerToken(id, LiveKitRooms.RoomName(id), "w1", "Replica", time.GetUtcNow().AddHours(2))!.Value;
        var verified = new LiveKitTokenVerifier(Options, time).Verify(token);
        Assert.Equal(TokenKinds.Agent, verified.Grants.Kind);
        Assert.Equal("worker-w1", verified.Grants.Identity);
        Assert.Equal(LiveKitRooms.EndUserIdentity(id), verified.Grants.Attributes![AgentAttributes.PublishOnBehalf]);
        Assert.Equal(LiveKitRooms.RoomName(id), verified.Grants.Video!.Room);
        Assert.Equal(time.GetUtcNow().AddHours(2), verified.ExpiresAt);
    }

    [Fact]
    public void Without_configuration_rooms_are_disabled_and_issue_nothing()
    {
        var rooms = Rooms(new LiveKitOptions(), TimeProvider.System);
        Assert.False(rooms.Enabled);
        var id = ConversationId.New(TenantId.New());
        Assert.Null(rooms.UserToken(id, LiveKitRooms.RoomName(id), "P", DateTimeOffset.UtcNow.AddHours(1)));
    }

    [Theory]
    [InlineData("wss://lk", "", "")]
    [InlineData("", "key", "s3cr3t-value")]
    public void A_partial_LiveKit_section_fails_validation(string url, string key, string secret)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["LiveKit:Url"] = url, ["LiveKit:ApiKey"] = key, ["LiveKit:ApiSecret"] = secret }).Build());
        services.AddLogging().AddConversationRooms();
        using var provider = services.BuildServiceProvider();
        var e = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<LiveKitOptions>>().Value);
        Assert.Contains("together", e.Message);
        Assert.DoesNotContain("s3cr3t", e.Message);
    }
}
