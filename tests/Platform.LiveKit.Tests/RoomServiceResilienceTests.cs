using Microsoft.Extensions.Time.Testing;
using Platform.LiveKit.Rooms;
using Platform.LiveKit.Tests.Infrastructure;

namespace Platform.LiveKit.Tests;

/// <summary>Timeouts, retries and cancellation of our RoomService client against the loopback server.</summary>
public sealed class RoomServiceResilienceTests : IAsyncLifetime
{
    private TwirpServer _server = null!;
    private readonly HttpClient _http = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task InitializeAsync() => _server = await TwirpServer.StartAsync();

    public async Task DisposeAsync()
    {
        _release.TrySetResult();
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private RoomServiceClient Client(TimeProvider? time = null, int maxAttempts = 3) => new(_http, new LiveKitOptions
    {
        Url = _server.Url,
        ApiKey = "k",
        ApiSecret = "secret-secret-secret-secret-secret",
        MaxAttempts = maxAttempts,
        RetryBaseDelay = TimeSpan.Zero,
        RequestTimeout = TimeSpan.FromSeconds(10),
    }, time);

    private static CannedResponse Status(int status, string body) => new(status, "application/json", body);

    /// <summary>A request the server holds until the connection is aborted or the test ends.</summary>
    private void EnqueueHang() => _server.Enqueue(async ctx =>
    {
        try
        {
            await _release.Task.WaitAsync(ctx.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
        return null;
    });

    [Fact]
    public async Task Idempotent_call_is_retried_after_5xx_and_succeeds()
    {
        _server.Enqueue(Status(503, Recorded.Unavailable));
        _server.Enqueue(Status(500, Recorded.Internal));
        _server.Enqueue(CannedResponse.Json(Recorded.ListParticipants));

        var participants = await Client().ListParticipantsAsync("conv-7f3a9c");

        Assert.Equal(2, participants.Count);
        Assert.Equal(3, _server.Requests.Count);
        // Every attempt carries a freshly minted token.
        Assert.All(_server.Requests, r => Assert.StartsWith("Bearer ", r.Authorization));
    }

    [Fact]
    public async Task Retries_are_bounded_and_the_last_error_surfaces()
    {
        _server.Fallback = Status(503, Recorded.Unavailable);

        var e = await Assert.ThrowsAsync<LiveKitException>(() => Client(maxAttempts: 3).ListRoomsAsync());

        Assert.Equal((TwirpCodes.Unavailable, 503, "no nodes available"), (e.Code, e.HttpStatus, e.Message));
        Assert.Equal(3, _server.Requests.Count);
    }

    [Fact]
    public async Task A_network_error_is_retried_for_an_idempotent_call()
    {
        _server.Enqueue(_ => Task.FromResult<CannedResponse?>(null)); // connection aborted
        _server.Enqueue(CannedResponse.Json(Recorded.Room));

        var room = await Client().CreateRoomAsync(new CreateRoomOptions("conv-7f3a9c"));

        Assert.Equal("RM_hyXtxsWbqK7a", room.Sid);
        Assert.Equal(2, _server.Requests.Count);
    }

    [Fact]
    public async Task SendData_is_never_retried()
    {
        _server.Fallback = Status(503, Recorded.Unavailable);
        var e = await Assert.ThrowsAsync<LiveKitException>(() => Client().SendDataAsync("r", new byte[] { 1 }));
        Assert.Equal(503, e.HttpStatus);
        Assert.Single(_server.Requests);

        _server.Requests.Clear();
        _server.Enqueue(_ => Task.FromResult<CannedResponse?>(null));
        var network = await Assert.ThrowsAsync<LiveKitException>(() => Client().SendDataAsync("r", new byte[] { 1 }));
        Assert.Equal(TwirpCodes.Unavailable, network.Code);
        Assert.Null(network.HttpStatus);
        Assert.IsAssignableFrom<HttpRequestException>(network.InnerException);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task Client_errors_are_not_retried()
    {
        _server.Fallback = Status(404, Recorded.NotFound);
        var e = await Assert.ThrowsAsync<LiveKitException>(() => Client().ListParticipantsAsync("gone"));
        Assert.True(e.IsNotFound);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task DeleteRoom_not_found_is_an_error_but_after_an_unanswered_attempt_means_done()
    {
        _server.Enqueue(Status(404, Recorded.NotFound));
        var e = await Assert.ThrowsAsync<LiveKitException>(() => Client().DeleteRoomAsync("conv-1"));
        Assert.True(e.IsNotFound);

        _server.Requests.Clear();
        _server.Enqueue(_ => Task.FromResult<CannedResponse?>(null)); // the delete may have happened; the answer was lost
        _server.Enqueue(Status(404, Recorded.NotFound));
        await Client().DeleteRoomAsync("conv-1");
        Assert.Equal(2, _server.Requests.Count);
    }

    [Fact]
    public async Task A_call_that_gets_no_answer_times_out_on_the_time_provider()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        EnqueueHang();

        var call = Client(time).ListParticipantsAsync("conv-1");
        await _server.WaitForRequestsAsync(1);
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(10));

        var e = await Assert.ThrowsAsync<LiveKitException>(() => call);
        Assert.Equal(TwirpCodes.DeadlineExceeded, e.Code);
        Assert.Null(e.HttpStatus);
        Assert.Single(_server.Requests); // the deadline covers all attempts: no retry after it
    }

    [Fact]
    public async Task Caller_cancellation_is_honoured_as_cancellation()
    {
        EnqueueHang();
        using var cts = new CancellationTokenSource();

        var call = Client().ListRoomsAsync(cancellationToken: cts.Token);
        await _server.WaitForRequestsAsync(1);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Single(_server.Requests);
    }

    [Fact]
    public async Task A_success_status_with_a_body_that_is_not_json_is_an_error()
    {
        _server.Enqueue(new CannedResponse(200, "text/html", "<html>proxy</html>"));
        var e = await Assert.ThrowsAsync<LiveKitException>(() => Client().ListRoomsAsync());
        Assert.Equal(TwirpCodes.Internal, e.Code);
    }

    [Fact]
    public async Task A_websocket_url_is_called_over_http()
    {
        var client = new RoomServiceClient(_http, new LiveKitOptions
        {
            Url = _server.Url.Replace("http://", "ws://") + "/",
            ApiKey = "k",
            ApiSecret = "secret-secret-secret-secret-secret",
        });
        _server.Enqueue(CannedResponse.Json(Recorded.ListRoomsEmpty));
        Assert.Empty(await client.ListRoomsAsync());
        Assert.Equal("/twirp/livekit.RoomService/ListRooms", _server.TakeSingle().Path);
    }
}
