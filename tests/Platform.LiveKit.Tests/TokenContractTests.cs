using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Platform.LiveKit.Rooms;
using Platform.LiveKit.Tests.Infrastructure;
using Platform.LiveKit.Tokens;

namespace Platform.LiveKit.Tests;

/// <summary>Our tokens against the official SDK's TokenVerifier, and SDK tokens against our verifier.</summary>
public sealed class TokenContractTests(NodeSdk sdk) : IClassFixture<NodeSdk>
{
    private const string Key = "APIk3yForTests";
    private const string Secret = "s3cret-for-tests-0123456789abcdefghijklmnop";
    private static readonly LiveKitOptions Options = new() { Url = "http://127.0.0.1:1", ApiKey = Key, ApiSecret = Secret };

    // Tokens are checked by node against the real clock, so they are minted at the real time (fixed for the test).
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds()));

    private long Now => _time.GetUtcNow().ToUnixTimeSeconds();

    private Task<JsonNode?> VerifyWithSdk(string token, string secret = Secret) =>
        sdk.CallAsync("verify", new { apiKey = Key, secret, token });

    [Fact]
    public async Task User_token_passes_TokenVerifier_with_exactly_the_user_grants()
    {
        var token = new LiveKitTokenIssuer(Options, _time).CreateUserToken("conv-7f3a9c", "user-c_123", "Ada Lovelace", TimeSpan.FromMinutes(30));

        var payload = await VerifyWithSdk(token);

        var expected = JsonNode.Parse($$$"""
            {"iss":"{{{Key}}}","sub":"user-c_123","nbf":{{{Now}}},"exp":{{{Now + 1800}}},"name":"Ada Lovelace","kind":"standard",
             "video":{"roomJoin":true,"room":"conv-7f3a9c","canPublish":true,"canPublishSources":["camera","microphone"],
                      "canSubscribe":true,"canPublishData":true}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, payload), payload!.ToJsonString());
    }

    [Fact]
    public async Task Render_worker_token_is_an_agent_with_publish_on_behalf()
    {
        var token = new LiveKitTokenIssuer(Options, _time).CreateRenderWorkerToken(
            "conv-7f3a9c", "worker-r7/c_123", "Replica", TimeSpan.FromSeconds(95), publishOnBehalfOf: "user-c_123");

        var payload = await VerifyWithSdk(token);

        var expected = JsonNode.Parse($$$"""
            {"iss":"{{{Key}}}","sub":"worker-r7/c_123","nbf":{{{Now}}},"exp":{{{Now + 95}}},"name":"Replica","kind":"agent",
             "attributes":{"lk.publish_on_behalf":"user-c_123"},
             "video":{"roomJoin":true,"room":"conv-7f3a9c","canPublish":true,"canPublishSources":["camera","microphone"],
                      "canSubscribe":true,"canPublishData":true,"agent":true}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, payload), payload!.ToJsonString());
    }

    [Fact]
    public async Task Render_worker_token_without_publish_on_behalf_has_no_attributes()
    {
        var token = new LiveKitTokenIssuer(Options, _time).CreateRenderWorkerToken("r", "w", "Replica", TimeSpan.FromMinutes(1));
        var payload = (await VerifyWithSdk(token))!.AsObject();
        Assert.False(payload.ContainsKey("attributes"));
        Assert.Equal("agent", payload["kind"]!.GetValue<string>());
    }

    public static TheoryData<string, string> AdminGrants => new()
    {
        { "roomCreate", """{"roomCreate":true}""" },
        { "roomList", """{"roomList":true}""" },
        { "roomAdmin", """{"roomAdmin":true,"room":"conv-7f3a9c"}""" },
    };

    [Theory]
    [MemberData(nameof(AdminGrants))]
    public async Task Admin_tokens_carry_only_their_grant_and_no_identity(string which, string expectedVideo)
    {
        var grant = which switch
        {
            "roomCreate" => VideoGrant.ForRoomCreate(),
            "roomList" => VideoGrant.ForRoomList(),
            _ => VideoGrant.ForRoomAdmin("conv-7f3a9c"),
        };
        var token = new LiveKitTokenIssuer(Options, _time).CreateAdminToken(grant, TimeSpan.FromMinutes(2));

        var payload = await VerifyWithSdk(token);

        var expected = JsonNode.Parse($$$"""{"iss":"{{{Key}}}","nbf":{{{Now}}},"exp":{{{Now + 120}}},"video":""" + expectedVideo + "}");
        Assert.True(JsonNode.DeepEquals(expected, payload), payload!.ToJsonString());
    }

    [Fact]
    public async Task Every_claim_is_written_as_the_sdk_expects()
    {
        var grants = new TokenGrants
        {
            Identity = "id-1",
            Name = "Név ✓",
            Kind = TokenKinds.Agent,
            Metadata = """{"a":1}""",
            Attributes = new Dictionary<string, string> { ["x"] = "1", ["lk.y"] = "z" },
            Sha256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
            RoomConfig = new RoomConfiguration { Name = "r", EmptyTimeout = 60, DepartureTimeout = 5, MaxParticipants = 2, Metadata = "m" },
            Video = new VideoGrant
            {
                RoomJoin = true, Room = "r", CanPublish = false, CanSubscribe = false, CanPublishData = false,
                CanPublishSources = [TrackSource.ScreenShare, TrackSource.ScreenShareAudio], CanUpdateOwnMetadata = true,
                Hidden = true, Recorder = true, RoomRecord = true, IngressAdmin = true, CanSubscribeMetrics = false,
                DestinationRoom = "r2",
            },
        };
        var token = new LiveKitTokenIssuer(Options, _time).CreateToken(grants, TimeSpan.FromSeconds(10));

        var payload = await VerifyWithSdk(token);

        var expected = JsonNode.Parse($$$"""
            {"iss":"{{{Key}}}","sub":"id-1","nbf":{{{Now}}},"exp":{{{Now + 10}}},"name":"Név ✓","kind":"agent","metadata":"{\"a\":1}",
             "attributes":{"x":"1","lk.y":"z"},"sha256":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
             "roomConfig":{"name":"r","emptyTimeout":60,"departureTimeout":5,"maxParticipants":2,"metadata":"m"},
             "video":{"roomJoin":true,"room":"r","roomRecord":true,"ingressAdmin":true,"canPublish":false,
                      "canPublishSources":["screen_share","screen_share_audio"],"canSubscribe":false,"canPublishData":false,
                      "canUpdateOwnMetadata":true,"hidden":true,"recorder":true,"canSubscribeMetrics":false,"destinationRoom":"r2"}}
            """);
        Assert.True(JsonNode.DeepEquals(expected, payload), payload!.ToJsonString());
    }

    [Fact]
    public async Task TokenVerifier_rejects_our_token_under_another_secret()
    {
        var token = new LiveKitTokenIssuer(Options, _time).CreateUserToken("r", "u", "U", TimeSpan.FromMinutes(1));
        await Assert.ThrowsAsync<NodeSdkError>(() => VerifyWithSdk(token, "another-secret-another-secret-another"));
    }

    [Fact]
    public async Task TokenVerifier_rejects_our_expired_token()
    {
        // Minted 10 minutes in the past with a 1 minute lifetime: expired beyond the SDK's 10 s tolerance.
        var past = new FakeTimeProvider(_time.GetUtcNow() - TimeSpan.FromMinutes(10));
        var token = new LiveKitTokenIssuer(Options, past).CreateUserToken("r", "u", "U", TimeSpan.FromMinutes(1));
        var e = await Assert.ThrowsAsync<NodeSdkError>(() => VerifyWithSdk(token));
        Assert.Contains("exp", e.Message);
    }

    [Fact]
    public async Task Sdk_user_token_decodes_in_our_verifier_like_ours()
    {
        var sdkToken = await sdk.StringAsync("mint", new
        {
            apiKey = Key, secret = Secret, identity = "user-c_123", name = "Ada Lovelace", ttlSeconds = 1800, kind = "standard",
            video = new
            {
                roomJoin = true, room = "conv-7f3a9c", canPublish = true, canPublishSources = new[] { "camera", "microphone" },
                canSubscribe = true, canPublishData = true,
            },
        });
        var ours = new LiveKitTokenIssuer(Options, _time).CreateUserToken("conv-7f3a9c", "user-c_123", "Ada Lovelace", TimeSpan.FromMinutes(30));
        var verifier = new LiveKitTokenVerifier(Options, _time);

        var fromSdk = verifier.Verify(sdkToken);
        var fromUs = verifier.Verify(ours);

        Assert.Equal(Key, fromSdk.Issuer);
        Assert.Equal(fromUs.Grants.Video, fromSdk.Grants.Video);
        Assert.Equal(fromUs.Grants with { Video = null }, fromSdk.Grants with { Video = null });
        // The SDK stamps nbf/exp from its own clock: within a second or two of ours.
        Assert.InRange(fromSdk.ExpiresAt!.Value - fromSdk.NotBefore!.Value, TimeSpan.FromSeconds(1800), TimeSpan.FromSeconds(1801));
        Assert.InRange((fromSdk.NotBefore!.Value - _time.GetUtcNow()).Duration(), TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Sdk_agent_token_with_attributes_metadata_and_sha256_decodes_in_our_verifier()
    {
        var sdkToken = await sdk.StringAsync("mint", new
        {
            apiKey = Key, secret = Secret, identity = "worker-1", name = "Replica", ttlSeconds = 60, kind = "agent",
            metadata = "{\"replica\":\"r7\"}", sha256 = "abc=",
            attributes = new Dictionary<string, string> { ["lk.publish_on_behalf"] = "user-1" },
            video = new { roomJoin = true, room = "r", agent = true, canPublish = false, hidden = true },
        });

        var token = new LiveKitTokenVerifier(Options, _time).Verify(sdkToken);

        Assert.Equal("worker-1", token.Grants.Identity);
        Assert.Equal("Replica", token.Grants.Name);
        Assert.Equal(TokenKinds.Agent, token.Grants.Kind);
        Assert.Equal("{\"replica\":\"r7\"}", token.Grants.Metadata);
        Assert.Equal("abc=", token.Grants.Sha256);
        Assert.Equal("user-1", token.Grants.Attributes![AgentAttributes.PublishOnBehalf]);
        Assert.Equal(new VideoGrant { RoomJoin = true, Room = "r", Agent = true, CanPublish = false, Hidden = true }, token.Grants.Video);
    }

    [Fact]
    public async Task Our_verifier_rejects_sdk_tokens_that_are_wrong()
    {
        var otherSecret = await sdk.StringAsync("mint", new { apiKey = Key, secret = "x-another-secret-another-secret-x", identity = "u", ttlSeconds = 60 });
        var otherKey = await sdk.StringAsync("mint", new { apiKey = "OtherKey", secret = Secret, identity = "u", ttlSeconds = 60 });
        var verifier = new LiveKitTokenVerifier(Options, _time);

        Assert.False(verifier.TryVerify(otherSecret, out _, out var r1));
        Assert.Equal(TokenRejection.BadSignature, r1);
        Assert.False(verifier.TryVerify(otherKey, out _, out var r2));
        Assert.Equal(TokenRejection.WrongIssuer, r2);

        // Well past exp + tolerance even when node minted a few seconds after our clock was set.
        _time.Advance(TimeSpan.FromMinutes(5));
        var mintedNow = await sdk.StringAsync("mint", new { apiKey = Key, secret = Secret, identity = "u", ttlSeconds = 60 });
        Assert.False(verifier.TryVerify(mintedNow, out _, out var r3));
        Assert.Equal(TokenRejection.Expired, r3);
    }
}
