using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Platform.LiveKit.Rooms;
using Platform.LiveKit.Tests.Infrastructure;
using Platform.LiveKit.Tokens;
using Platform.LiveKit.Webhooks;

namespace Platform.LiveKit.Tests;

/// <summary>Webhooks signed as LiveKit signs them (the official SDK's AccessToken with a sha256 claim) through our receiver.</summary>
public sealed class WebhookContractTests(NodeSdk sdk) : IClassFixture<NodeSdk>
{
    private const string Key = "APIwebhookKey";
    private const string Secret = "webhook-secret-0123456789-abcdefghijklmnopq";
    private static readonly LiveKitOptions Options = new() { ApiKey = Key, ApiSecret = Secret, WebhookWindow = TimeSpan.FromMinutes(5) };

    // The SDK signs with the real clock; our receiver's logical clock starts at the same instant.
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    private LiveKitWebhookReceiver Receiver(out InMemoryWebhookReplayStore store)
    {
        store = new InMemoryWebhookReplayStore(_time);
        return new LiveKitWebhookReceiver(Options, store, _time);
    }

    private Task<string> Sign(string body, string secret = Secret, string apiKey = Key, int ttlSeconds = 300) =>
        sdk.StringAsync("signWebhook", new { apiKey, secret, body, ttlSeconds });

    private static string ParticipantJoined(long createdAt, string id = "EV_3fJq9ZkPq2Wd") => $$$"""
        {"event":"participant_joined","room":{"sid":"RM_hyXtxsWbqK7a","name":"conv-7f3a9c","emptyTimeout":300,
        "departureTimeout":20,"maxParticipants":2,"creationTime":"{{{createdAt - 5}}}","creationTimeMs":"{{{(createdAt - 5) * 1000 + 123}}}",
        "enabledCodecs":[{"mime":"audio/opus"},{"mime":"video/VP8"}],"metadata":"{\"conversation\":\"c_123\"}",
        "numParticipants":1,"version":{"unixMicro":"{{{createdAt * 1000000}}}"}},
        "participant":{"sid":"PA_2BsnD7KqJmX9","identity":"user-c_123","state":"ACTIVE","joinedAt":"{{{createdAt}}}",
        "joinedAtMs":"{{{createdAt * 1000 + 7}}}","name":"Ada Lovelace","version":2,"permission":{"canSubscribe":true,
        "canPublish":true,"canPublishData":true,"canPublishSources":["CAMERA","MICROPHONE"]},"region":"eu-central",
        "kind":"STANDARD","attributes":{"locale":"en-GB"}},"id":"{{{id}}}","createdAt":"{{{createdAt}}}"}
        """;

    private long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    [Fact]
    public async Task Sdk_signed_participant_joined_passes_and_parses_like_the_sdk()
    {
        var body = ParticipantJoined(Now);
        var auth = await Sign(body);

        var ev = await Receiver(out _).ReceiveAsync(Encoding.UTF8.GetBytes(body), auth);

        var joined = Assert.IsType<ParticipantJoinedEvent>(ev);
        Assert.Equal("EV_3fJq9ZkPq2Wd", joined.Id);
        Assert.Equal(WebhookEvent.Names.ParticipantJoined, joined.Name);
        Assert.Equal(_time.GetUtcNow(), joined.CreatedAt);
        Assert.Equal("conv-7f3a9c", joined.Room.Name);
        Assert.Equal("user-c_123", joined.Participant.Identity);
        Assert.Equal(ParticipantState.Active, joined.Participant.State);
        Assert.Equal([TrackSource.Camera, TrackSource.Microphone], joined.Participant.Permission!.CanPublishSources);

        // The SDK's own WebhookReceiver accepts the same delivery and reads the same values.
        var sdkEvent = (await sdk.CallAsync("receiveWebhook", new { apiKey = Key, secret = Secret, body, auth }))!.AsObject();
        Assert.Equal("participant_joined", sdkEvent["event"]!.GetValue<string>());
        Assert.Equal(Now.ToString(), sdkEvent["created_at"]!.GetValue<string>());
        Canonical.AssertSubset(Canonical.Room(joined.Room), sdkEvent["room"], "$.room");
        Canonical.AssertSubset(Canonical.Participant(joined.Participant), sdkEvent["participant"], "$.participant");
    }

    [Fact]
    public async Task Track_published_room_finished_and_unknown_events_parse_into_typed_records()
    {
        var receiver = Receiver(out _);
        var track = $$$"""
            {"event":"track_published","room":{"sid":"RM_1","name":"conv-1"},"participant":{"sid":"PA_1","identity":"worker-1",
            "state":"ACTIVE","kind":"AGENT","attributes":{"lk.publish_on_behalf":"user-1"}},"track":{"sid":"TR_1","type":"VIDEO",
            "name":"replica-video","width":1280,"height":720,"source":"CAMERA","mimeType":"video/VP8"},"id":"EV_t1","createdAt":"{{{Now}}}"}
            """;
        var finished = $$$"""{"event":"room_finished","room":{"sid":"RM_1","name":"conv-1"},"id":"EV_f1","createdAt":"{{{Now}}}","roomEndReason":"ROOM_END_API_DELETE"}""";
        var egress = $$$"""{"event":"egress_started","egressInfo":{"egressId":"EG_1","roomName":"conv-1"},"id":"EV_e1","createdAt":"{{{Now}}}"}""";

        var published = Assert.IsType<TrackPublishedEvent>(await receiver.ReceiveAsync(Encoding.UTF8.GetBytes(track), await Sign(track)));
        var ended = Assert.IsType<RoomFinishedEvent>(await receiver.ReceiveAsync(Encoding.UTF8.GetBytes(finished), await Sign(finished)));
        var unknown = Assert.IsType<UnknownWebhookEvent>(await receiver.ReceiveAsync(Encoding.UTF8.GetBytes(egress), await Sign(egress)));

        Assert.Equal(ParticipantKind.Agent, published.Participant.Kind);
        Assert.Equal("user-1", published.Participant.Attributes["lk.publish_on_behalf"]);
        Assert.Equal(new LiveKitTrack("TR_1", TrackType.Video, "replica-video", false, 1280, 720, false, TrackSource.Camera, "video/VP8", "", false, ""),
            published.Track);
        Assert.Equal(RoomEndReason.ApiDelete, ended.EndReason);
        Assert.Equal("egress_started", unknown.Name);
        Assert.Equal("EG_1", unknown.Raw.GetProperty("egressInfo").GetProperty("egressId").GetString());
    }

    [Fact]
    public async Task A_changed_body_byte_is_rejected_as_a_hash_mismatch()
    {
        var body = ParticipantJoined(Now);
        var auth = await Sign(body);
        var tampered = Encoding.UTF8.GetBytes(body);
        var at = body.IndexOf("user-c_123", StringComparison.Ordinal);
        tampered[at] = (byte)'U';

        await AssertRejected(WebhookRejection.BodyHashMismatch, tampered, auth);
        await AssertSdkRejects(Encoding.UTF8.GetString(tampered), auth, "sha256");
    }

    [Fact]
    public async Task A_token_signed_with_another_secret_is_rejected()
    {
        var body = ParticipantJoined(Now);
        await AssertRejected(WebhookRejection.BadSignature, Encoding.UTF8.GetBytes(body), await Sign(body, secret: "not-our-secret-not-our-secret-not-ours"));
    }

    [Fact]
    public async Task A_token_from_another_api_key_is_rejected()
    {
        var body = ParticipantJoined(Now);
        await AssertRejected(WebhookRejection.WrongIssuer, Encoding.UTF8.GetBytes(body), await Sign(body, apiKey: "SomeoneElse"));
    }

    [Fact]
    public async Task A_bearer_prefixed_header_is_rejected_by_us_and_by_the_sdk()
    {
        var body = ParticipantJoined(Now);
        var auth = "Bearer " + await Sign(body);
        await AssertRejected(WebhookRejection.BearerPrefix, Encoding.UTF8.GetBytes(body), auth);
        await AssertSdkRejects(body, auth, "");
    }

    [Fact]
    public async Task Missing_and_garbage_headers_are_rejected()
    {
        var body = Encoding.UTF8.GetBytes(ParticipantJoined(Now));
        await AssertRejected(WebhookRejection.MissingAuthorization, body, null);
        await AssertRejected(WebhookRejection.MalformedToken, body, "not-a-jwt");
        // alg "none" with no signature: never accepted.
        var none = "eyJhbGciOiJub25lIn0." + Convert.ToBase64String(Encoding.UTF8.GetBytes($$$"""{"iss":"{{{Key}}}","exp":{{{Now + 60}}},"sha256":"x"}""")).TrimEnd('=') + ".";
        await AssertRejected(WebhookRejection.MalformedToken, body, none);
    }

    [Fact]
    public async Task An_expired_token_is_rejected()
    {
        var body = ParticipantJoined(Now);
        var auth = await Sign(body, ttlSeconds: 60);
        // Well past exp + the 10 s tolerance (even if node signed a few seconds late), still inside the event window.
        _time.Advance(TimeSpan.FromMinutes(4));
        await AssertRejected(WebhookRejection.TokenExpired, Encoding.UTF8.GetBytes(body), auth);
    }

    [Fact]
    public async Task A_stale_event_is_rejected_even_with_a_fresh_token()
    {
        var body = ParticipantJoined(Now - 6 * 60);
        await AssertRejected(WebhookRejection.Stale, Encoding.UTF8.GetBytes(body), await Sign(body));
        var future = ParticipantJoined(Now + 6 * 60, "EV_future");
        await AssertRejected(WebhookRejection.Stale, Encoding.UTF8.GetBytes(future), await Sign(future));
    }

    [Fact]
    public async Task A_replayed_event_id_is_rejected_even_when_re_signed()
    {
        var receiver = Receiver(out var store);
        var body = ParticipantJoined(Now);
        var bytes = Encoding.UTF8.GetBytes(body);
        var auth = await Sign(body);

        await receiver.ReceiveAsync(bytes, auth);
        var again = await Assert.ThrowsAsync<WebhookRejectedException>(() => receiver.ReceiveAsync(bytes, auth).AsTask());
        var resigned = await Assert.ThrowsAsync<WebhookRejectedException>(async () => await receiver.ReceiveAsync(bytes, await Sign(body)));

        Assert.Equal(WebhookRejection.Replayed, again.Reason);
        Assert.Equal(WebhookRejection.Replayed, resigned.Reason);
        Assert.Equal(1, store.Count);
        // Another event (new id) in the same window still passes.
        var other = ParticipantJoined(Now, "EV_other");
        await receiver.ReceiveAsync(Encoding.UTF8.GetBytes(other), await Sign(other));
    }

    [Fact]
    public async Task Authentic_but_malformed_bodies_are_rejected_after_verification()
    {
        foreach (var body in new[]
                 {
                     "not json",
                     $$$"""{"event":"participant_joined","room":{"name":"r"},"createdAt":"{{{Now}}}","id":"EV_x"}""", // no participant
                     $$$"""{"event":"room_started","room":{"name":"r"},"createdAt":"{{{Now}}}"}""", // no id
                     $$$"""{"event":"room_started","room":{"name":"r","numParticipants":"many"},"createdAt":"{{{Now}}}","id":"EV_y"}""",
                 })
            await AssertRejected(WebhookRejection.MalformedEvent, Encoding.UTF8.GetBytes(body), await Sign(body));
    }

    private async Task AssertRejected(WebhookRejection expected, byte[] body, string? auth)
    {
        var e = await Assert.ThrowsAsync<WebhookRejectedException>(() => Receiver(out _).ReceiveAsync(body, auth).AsTask());
        Assert.Equal(expected, e.Reason);
    }

    private async Task AssertSdkRejects(string body, string auth, string messagePart)
    {
        var e = await Assert.ThrowsAsync<NodeSdkError>(() => sdk.CallAsync("receiveWebhook", new { apiKey = Key, secret = Secret, body, auth }));
        Assert.Contains(messagePart, e.Message);
    }
}
