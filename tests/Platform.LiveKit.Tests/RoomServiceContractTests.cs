using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Platform.LiveKit.Rooms;
using Platform.LiveKit.Tests.Infrastructure;
using Platform.LiveKit.Tokens;

namespace Platform.LiveKit.Tests;

/// <summary>
/// For each RoomService method, our client and the official SDK's RoomServiceClient call the same loopback Twirp
/// server: the requests must match (path, content type, token grants, JSON body) and both must read the same
/// recorded LiveKit answer to the same values.
/// </summary>
public sealed class RoomServiceContractTests(NodeSdk sdk) : IClassFixture<NodeSdk>, IAsyncLifetime
{
    private const string Key = "APIroomsKey";
    private const string Secret = "rooms-secret-0123456789-abcdefghijklmnopqrs";
    private const string Room = "conv-7f3a9c";

    private TwirpServer _server = null!;
    private HttpClient _http = null!;
    private RoomServiceClient _client = null!;
    private LiveKitOptions _options = null!;

    public async Task InitializeAsync()
    {
        _server = await TwirpServer.StartAsync();
        _options = new LiveKitOptions { Url = _server.Url, ApiKey = Key, ApiSecret = Secret, MaxAttempts = 1 };
        _http = new HttpClient();
        _client = new RoomServiceClient(_http, _options);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    /// <summary>Our call, then the SDK's, each answered with <paramref name="answer"/>; checks the two requests match.</summary>
    private async Task<(T Ours, JsonNode? Sdk, JsonObject Body)> Both<T>(
        string method, VideoGrant grant, CannedResponse answer, Func<RoomServiceClient, Task<T>> ours, object sdkArgs)
    {
        _server.Enqueue(answer);
        var ourResult = await ours(_client);
        var ourRequest = _server.TakeSingle();

        _server.Enqueue(answer);
        var sdkResult = await sdk.CallAsync("room", new { url = _server.Url, apiKey = Key, secret = Secret, method, args = sdkArgs });
        var sdkRequest = _server.TakeSingle();

        var body = await AssertSameRequest(method, grant, ourRequest, sdkRequest);
        return (ourResult, sdkResult, body);
    }

    private async Task<JsonObject> AssertSameRequest(string method, VideoGrant grant, RecordedRequest ours, RecordedRequest sdkRequest)
    {
        foreach (var r in new[] { ours, sdkRequest })
        {
            Assert.Equal("POST", r.Method);
            Assert.Equal($"/twirp/livekit.RoomService/{method}", r.Path);
            Assert.Equal("application/json", MediaTypeHeaderValue.Parse(r.ContentType!).MediaType);
            Assert.StartsWith("Bearer ", r.Authorization);
        }

        // Both admin tokens verify (ours also with the SDK's TokenVerifier) and carry exactly the same grant.
        var verifier = new LiveKitTokenVerifier(_options);
        var ourToken = verifier.Verify(ours.Authorization!["Bearer ".Length..]);
        var sdkToken = verifier.Verify(sdkRequest.Authorization!["Bearer ".Length..]);
        Assert.Equal(grant, ourToken.Grants.Video);
        Assert.Equal(grant, sdkToken.Grants.Video);
        Assert.Equal(sdkToken.Grants with { Video = null }, ourToken.Grants with { Video = null });
        Assert.Null(ourToken.Grants.Identity);
        var payload = await sdk.CallAsync("verify", new { apiKey = Key, secret = Secret, token = ours.Authorization!["Bearer ".Length..] });
        Assert.True(JsonNode.DeepEquals(payload!["video"], JsonNode.Parse(JsonSerializerVideo(grant))), payload.ToJsonString());

        // Same JSON body; SendData's nonce is random per call but present (16 bytes) in both.
        var ourBody = JsonNode.Parse(ours.Body)!.AsObject();
        var sdkBody = JsonNode.Parse(sdkRequest.Body)!.AsObject();
        if (method == "SendData")
        {
            Assert.Equal(16, Convert.FromBase64String(ourBody["nonce"]!.GetValue<string>()).Length);
            Assert.Equal(16, Convert.FromBase64String(sdkBody["nonce"]!.GetValue<string>()).Length);
            ourBody.Remove("nonce");
            sdkBody.Remove("nonce");
        }
        Assert.True(JsonNode.DeepEquals(ourBody, sdkBody), $"ours {ourBody.ToJsonString()} vs SDK {sdkBody.ToJsonString()}");
        return ourBody;
    }

    private static string JsonSerializerVideo(VideoGrant g) =>
        g.RoomCreate ? """{"roomCreate":true}""" : g.RoomList ? """{"roomList":true}""" : $$"""{"roomAdmin":true,"room":"{{g.Room}}"}""";

    [Fact]
    public async Task CreateRoom()
    {
        var (room, sdkRoom, body) = await Both("CreateRoom", VideoGrant.ForRoomCreate(), CannedResponse.Json(Recorded.Room),
            c => c.CreateRoomAsync(new CreateRoomOptions(Room)
            {
                EmptyTimeout = TimeSpan.FromSeconds(300),
                DepartureTimeout = TimeSpan.FromSeconds(20),
                MaxParticipants = 2,
                Metadata = """{"conversation":"c_123","tenant":"t_9"}""",
            }),
            new { name = Room, emptyTimeout = 300, departureTimeout = 20, maxParticipants = 2, metadata = """{"conversation":"c_123","tenant":"t_9"}""" });

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""
            {"name":"{{Room}}","emptyTimeout":300,"departureTimeout":20,"maxParticipants":2,"metadata":"{\"conversation\":\"c_123\",\"tenant\":\"t_9\"}"}
            """), body), body.ToJsonString());
        Canonical.AssertSubset(Canonical.Room(room), sdkRoom);
        Assert.Equal("RM_hyXtxsWbqK7a", room.Sid);
        Assert.Equal(1795795200123L, room.CreationTimeMs);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1795795200123), room.CreatedAt);
        Assert.Equal(["audio/opus", "audio/red", "video/VP8", "video/H264"], room.EnabledCodecs);
    }

    [Fact]
    public async Task CreateRoom_with_only_a_name_sends_only_the_name()
    {
        var (_, _, body) = await Both("CreateRoom", VideoGrant.ForRoomCreate(), CannedResponse.Json(Recorded.Room),
            c => c.CreateRoomAsync(new CreateRoomOptions(Room)), new { name = Room });
        Assert.Equal($$"""{"name":"{{Room}}"}""", body.ToJsonString());
    }

    [Fact]
    public async Task DeleteRoom()
    {
        var (_, result, body) = await Both("DeleteRoom", VideoGrant.ForRoomCreate(), CannedResponse.Json(Recorded.Empty),
            async c => { await c.DeleteRoomAsync(Room); return 0; }, new { room = Room });
        Assert.Equal($$"""{"room":"{{Room}}"}""", body.ToJsonString());
        Assert.Null(result);
    }

    [Fact]
    public async Task ListRooms_by_name()
    {
        var (rooms, sdkRooms, body) = await Both("ListRooms", VideoGrant.ForRoomList(), CannedResponse.Json(Recorded.ListRooms),
            c => c.ListRoomsAsync([Room, "conv-0b12ee"]), new { names = new[] { Room, "conv-0b12ee" } });

        Assert.Equal($$"""{"names":["{{Room}}","conv-0b12ee"]}""", body.ToJsonString());
        Assert.Equal(2, rooms.Count);
        Canonical.AssertSubset(new JsonArray([.. rooms.Select(r => (JsonNode)Canonical.Room(r))]), sdkRooms);
        Assert.True(rooms[1].ActiveRecording);
        Assert.Empty(rooms[1].EnabledCodecs);
    }

    [Fact]
    public async Task ListRooms_all_and_none_found()
    {
        var (rooms, sdkRooms, body) = await Both("ListRooms", VideoGrant.ForRoomList(), CannedResponse.Json(Recorded.ListRoomsEmpty),
            c => c.ListRoomsAsync(), new { });
        Assert.Equal("{}", body.ToJsonString());
        Assert.Empty(rooms);
        Assert.Equal("[]", sdkRooms!.ToJsonString());
    }

    [Fact]
    public async Task ListParticipants()
    {
        var (participants, sdkParticipants, body) = await Both("ListParticipants", VideoGrant.ForRoomAdmin(Room),
            CannedResponse.Json(Recorded.ListParticipants), c => c.ListParticipantsAsync(Room), new { room = Room });

        Assert.Equal($$"""{"room":"{{Room}}"}""", body.ToJsonString());
        Canonical.AssertSubset(new JsonArray([.. participants.Select(p => (JsonNode)Canonical.Participant(p))]), sdkParticipants);

        var (user, worker) = (participants[0], participants[1]);
        Assert.Equal(ParticipantKind.Standard, user.Kind);
        Assert.Equal(ParticipantState.Active, user.State);
        Assert.Equal(1795795205321L, user.JoinedAtMs);
        Assert.Equal(TrackSource.Microphone, Assert.Single(user.Tracks).Source);
        Assert.Equal(ParticipantKind.Agent, worker.Kind);
        Assert.Equal("user-c_123", worker.Attributes["lk.publish_on_behalf"]);
        Assert.True(worker.Permission!.Agent);
        Assert.Equal((TrackType.Video, 1280u, 720u), (worker.Tracks[0].Type, worker.Tracks[0].Width, worker.Tracks[0].Height));
        Assert.True(worker.Tracks[1].Muted);
    }

    [Fact]
    public async Task RemoveParticipant()
    {
        var (_, result, body) = await Both("RemoveParticipant", VideoGrant.ForRoomAdmin(Room), CannedResponse.Json(Recorded.Empty),
            async c => { await c.RemoveParticipantAsync(Room, "user-c_123"); return 0; }, new { room = Room, identity = "user-c_123" });
        Assert.Equal($$"""{"room":"{{Room}}","identity":"user-c_123"}""", body.ToJsonString());
        Assert.Null(result);
    }

    [Fact]
    public async Task SendData_reliable_with_topic_to_one_identity()
    {
        var data = Encoding.UTF8.GetBytes("""{"type":"conversation.ended"}""");
        var (_, _, body) = await Both("SendData", VideoGrant.ForRoomAdmin(Room), CannedResponse.Json(Recorded.Empty),
            async c =>
            {
                await c.SendDataAsync(Room, data, new SendDataOptions { Topic = "platform.events", DestinationIdentities = ["user-c_123"] });
                return 0;
            },
            new { room = Room, dataBase64 = Convert.ToBase64String(data), kind = "RELIABLE", topic = "platform.events", destinationIdentities = new[] { "user-c_123" } });
        Assert.Equal(data, Convert.FromBase64String(body["data"]!.GetValue<string>()));
        Assert.False(body.ContainsKey("kind")); // RELIABLE is the protobuf default: omitted by both
    }

    [Fact]
    public async Task SendData_lossy_to_everyone_without_topic()
    {
        byte[] data = [0, 1, 2, 250, 255];
        var (_, _, body) = await Both("SendData", VideoGrant.ForRoomAdmin(Room), CannedResponse.Json(Recorded.Empty),
            async c => { await c.SendDataAsync(Room, data, new SendDataOptions { Kind = DataPacketKind.Lossy }); return 0; },
            new { room = Room, dataBase64 = Convert.ToBase64String(data), kind = "LOSSY" });
        Assert.Equal("LOSSY", body["kind"]!.GetValue<string>());
        Assert.False(body.ContainsKey("topic"));
    }

    [Fact]
    public async Task UpdateRoomMetadata()
    {
        var (room, sdkRoom, body) = await Both("UpdateRoomMetadata", VideoGrant.ForRoomAdmin(Room),
            CannedResponse.Json(Recorded.RoomWithUpdatedMetadata),
            c => c.UpdateRoomMetadataAsync(Room, """{"state":"ending"}"""), new { room = Room, metadata = """{"state":"ending"}""" });
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse($$"""{"room":"{{Room}}","metadata":"{\"state\":\"ending\"}"}"""), body), body.ToJsonString());
        Canonical.AssertSubset(Canonical.Room(room), sdkRoom);
        Assert.Equal(2u, room.NumParticipants);
    }

    public static TheoryData<string, int, string, string?> Errors => new()
    {
        { "application/json", 404, Recorded.NotFound, TwirpCodes.NotFound },
        { "application/json", 400, Recorded.InvalidArgument, TwirpCodes.InvalidArgument },
        { "application/json", 500, Recorded.Internal, TwirpCodes.Internal },
        { "text/plain; charset=utf-8", 401, Recorded.Unauthorized, null },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public async Task Errors_map_to_LiveKitException_like_the_sdk(string contentType, int status, string body, string? sdkCode)
    {
        var answer = new CannedResponse(status, contentType, body);
        _server.Enqueue(answer);
        var ours = await Assert.ThrowsAsync<LiveKitException>(() => _client.ListParticipantsAsync(Room));
        _server.Enqueue(answer);
        var theirs = await Assert.ThrowsAsync<NodeSdkError>(() =>
            sdk.CallAsync("room", new { url = _server.Url, apiKey = Key, secret = Secret, method = "ListParticipants", args = new { room = Room } }));
        Assert.Equal(2, _server.Requests.Count);
        _server.Requests.Clear();

        Assert.Equal(status, ours.HttpStatus);
        Assert.Equal(status, theirs.Status);
        Assert.Equal("ListParticipants", ours.Method);
        Assert.Equal(theirs.Message.Trim(), ours.Message);
        // The SDK only reads a code from a JSON body; we derive one from the status for plain text (401 → unauthenticated).
        Assert.Equal(sdkCode, theirs.Code);
        Assert.Equal(sdkCode ?? TwirpCodes.Unauthenticated, ours.Code);
        if (status == 400) Assert.Equal("name", ours.Meta["argument"]);
    }
}
