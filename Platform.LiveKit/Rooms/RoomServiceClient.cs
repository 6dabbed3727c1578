using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.LiveKit.Protocol;
using Platform.LiveKit.Tokens;

namespace Platform.LiveKit.Rooms;

/// <summary>
/// LiveKit's RoomService over Twirp: <c>POST {url}/twirp/livekit.RoomService/{Method}</c> with a JSON body and a
/// fresh short-lived admin token carrying only the grant that method needs. Each call is bounded by
/// <see cref="LiveKitOptions.RequestTimeout"/> (all attempts together); idempotent calls are retried on a 5xx
/// answer or a network error up to <see cref="LiveKitOptions.MaxAttempts"/> times. Failures surface as
/// <see cref="LiveKitException"/>; cancellation by the caller as <see cref="OperationCanceledException"/>.
/// </summary>
/// <remarks>
/// Made for <c>IHttpClientFactory</c> (a typed or named client); the client's own <see cref="HttpClient.Timeout"/>
/// should be at least the request timeout. Thread-safe.
/// </remarks>
public sealed class RoomServiceClient
{
    private const string ServicePath = "/twirp/livekit.RoomService/";
    private static readonly MediaTypeHeaderValue Json = new("application/json");

    private readonly HttpClient _http;
    private readonly LiveKitOptions _options;
    private readonly TimeProvider _time;
    private readonly LiveKitTokenIssuer _tokens;
    private readonly string _baseUrl;

    /// <summary>Creates a client for the server in <paramref name="options"/>.</summary>
    public RoomServiceClient(HttpClient http, LiveKitOptions options, TimeProvider? time = null)
    {
        if (string.IsNullOrWhiteSpace(options.Url)) throw new InvalidOperationException("LiveKit:Url is not set.");
        if (options.MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(options), "LiveKit:MaxAttempts must be at least 1.");
        _http = http;
        _options = options;
        _time = time ?? TimeProvider.System;
        _tokens = new LiveKitTokenIssuer(options, _time);
        _baseUrl = HttpUrl(options.Url);
    }

    /// <summary>Creates a room (LiveKit answers with the existing room when the name is taken). Retried.</summary>
    public async Task<LiveKitRoom> CreateRoomAsync(CreateRoomOptions room, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(room.Name, nameof(room));
        using var doc = await CallAsync("CreateRoom", VideoGrant.ForRoomCreate(), w =>
        {
            w.WriteString("name", room.Name);
            WriteSeconds(w, "emptyTimeout", room.EmptyTimeout);
            WriteSeconds(w, "departureTimeout", room.DepartureTimeout);
            if (room.MaxParticipants is { } max && max > 0) w.WriteNumber("maxParticipants", max);
            if (!string.IsNullOrEmpty(room.Metadata)) w.WriteString("metadata", room.Metadata);
        }, Retry.Idempotent, cancellationToken).ConfigureAwait(false);
        return LiveKitRoom.Read(doc.RootElement);
    }

    /// <summary>Deletes a room, disconnecting everyone. Retried; a <c>not_found</c> after an attempt that got no answer counts as done.</summary>
    public async Task DeleteRoomAsync(string room, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(room);
        using var _ = await CallAsync("DeleteRoom", VideoGrant.ForRoomCreate(), w => w.WriteString("room", room),
            Retry.IdempotentRemoval, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Lists active rooms, all of them or those named. Retried.</summary>
    public async Task<IReadOnlyList<LiveKitRoom>> ListRoomsAsync(IReadOnlyList<string>? names = null, CancellationToken cancellationToken = default)
    {
        using var doc = await CallAsync("ListRooms", VideoGrant.ForRoomList(), w =>
        {
            if (names is not { Count: > 0 }) return;
            w.WriteStartArray("names");
            foreach (var n in names) w.WriteStringValue(n);
            w.WriteEndArray();
        }, Retry.Idempotent, cancellationToken).ConfigureAwait(false);
        return ProtoJson.List(doc.RootElement, "rooms", LiveKitRoom.Read);
    }

    /// <summary>Lists the participants of a room. Retried.</summary>
    public async Task<IReadOnlyList<LiveKitParticipant>> ListParticipantsAsync(string room, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(room);
        using var doc = await CallAsync("ListParticipants", VideoGrant.ForRoomAdmin(room), w => w.WriteString("room", room),
            Retry.Idempotent, cancellationToken).ConfigureAwait(false);
        return ProtoJson.List(doc.RootElement, "participants", LiveKitParticipant.Read);
    }

    /// <summary>Disconnects a participant (it could join again with a valid token). Retried like <see cref="DeleteRoomAsync"/>.</summary>
    public async Task RemoveParticipantAsync(string room, string identity, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(room);
        ArgumentException.ThrowIfNullOrWhiteSpace(identity);
        using var _ = await CallAsync("RemoveParticipant", VideoGrant.ForRoomAdmin(room), w =>
        {
            w.WriteString("room", room);
            w.WriteString("identity", identity);
        }, Retry.IdempotentRemoval, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a data packet to a room (everyone, or <see cref="SendDataOptions.DestinationIdentities"/>). Not retried:
    /// delivery is not idempotent. Carries a random 16-byte nonce like the official SDK.
    /// </summary>
    public async Task SendDataAsync(string room, ReadOnlyMemory<byte> data, SendDataOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(room);
        options ??= new SendDataOptions();
        var nonce = RandomNumberGenerator.GetBytes(16);
        using var _ = await CallAsync("SendData", VideoGrant.ForRoomAdmin(room), w =>
        {
            w.WriteString("room", room);
            if (!data.IsEmpty) w.WriteBase64String("data", data.Span);
            if (options.Kind != DataPacketKind.Reliable) w.WriteString("kind", ProtoEnum<DataPacketKind>.Name(options.Kind));
            if (options.DestinationIdentities.Count > 0)
            {
                w.WriteStartArray("destinationIdentities");
                foreach (var id in options.DestinationIdentities) w.WriteStringValue(id);
                w.WriteEndArray();
            }
            if (options.Topic is not null) w.WriteString("topic", options.Topic);
            w.WriteBase64String("nonce", nonce);
        }, Retry.Never, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Replaces a room's metadata; answers the updated room. Retried.</summary>
    public async Task<LiveKitRoom> UpdateRoomMetadataAsync(string room, string metadata, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(room);
        using var doc = await CallAsync("UpdateRoomMetadata", VideoGrant.ForRoomAdmin(room), w =>
        {
            w.WriteString("room", room);
            if (!string.IsNullOrEmpty(metadata)) w.WriteString("metadata", metadata);
        }, Retry.Idempotent, cancellationToken).ConfigureAwait(false);
        return LiveKitRoom.Read(doc.RootElement);
    }

    private enum Retry
    {
        Never,
        Idempotent,
        /// <summary>Idempotent, and a not_found on a later attempt means an earlier unanswered one took effect.</summary>
        IdempotentRemoval,
    }

    private async Task<JsonDocument> CallAsync(
        string method, VideoGrant grant, Action<Utf8JsonWriter> writeBody, Retry retry, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(body))
        {
            w.WriteStartObject();
            writeBody(w);
            w.WriteEndObject();
        }
        var url = new Uri(_baseUrl + ServicePath + method);
        var attempts = retry == Retry.Never ? 1 : _options.MaxAttempts;

        using var deadline = new CancellationTokenSource(_options.RequestTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        Exception? lastFailure = null;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, url);
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _tokens.CreateAdminToken(grant));
                request.Content = new ByteArrayContent(body.WrittenSpan.ToArray());
                request.Content.Headers.ContentType = Json;
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, linked.Token).ConfigureAwait(false);
                var bytes = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                    return bytes.Length == 0 ? JsonDocument.Parse("{}") : JsonDocument.Parse(bytes);

                var error = LiveKitException.FromResponse(method, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, bytes);
                if (retry == Retry.IdempotentRemoval && attempt > 1 && error.IsNotFound && lastFailure is not null)
                    return JsonDocument.Parse("{}");
                if ((int)response.StatusCode < 500 || attempt >= attempts) throw error;
                lastFailure = error;
            }
            catch (HttpRequestException e) when (!linked.IsCancellationRequested)
            {
                if (attempt >= attempts)
                    throw new LiveKitException(method, TwirpCodes.Unavailable, $"LiveKit {method}: the server could not be reached ({e.Message}).", null, null, e);
                lastFailure = e;
            }
            catch (HttpRequestException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (HttpRequestException e) when (deadline.IsCancellationRequested)
            {
                throw TimedOut(method, e);
            }
            catch (JsonException e)
            {
                throw new LiveKitException(method, TwirpCodes.Internal, $"LiveKit {method}: the answer is not valid JSON.", null, null, e);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw TimedOut(method, e);
            }

            try
            {
                await Task.Delay(_options.RetryBaseDelay * (1 << (attempt - 1)), _time, linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw TimedOut(method, e);
            }
        }
    }

    private LiveKitException TimedOut(string method, Exception e) =>
        new(method, TwirpCodes.DeadlineExceeded, $"LiveKit {method} did not complete within {_options.RequestTimeout}.", null, null, e);

    private static void WriteSeconds(Utf8JsonWriter w, string name, TimeSpan? value)
    {
        if (value is not { } v) return;
        if (v < TimeSpan.Zero) throw new ArgumentOutOfRangeException(name, v, "Must not be negative.");
        var seconds = checked((uint)Math.Ceiling(v.TotalSeconds));
        if (seconds > 0) w.WriteNumber(name, seconds);
    }

    internal static string HttpUrl(string url)
    {
        url = url.Trim().TrimEnd('/');
        if (url.StartsWith("wss://", StringComparison.OrdinalIgnoreCase)) return "https://" + url[6..];
        if (url.StartsWith("ws://", StringComparison.OrdinalIgnoreCase)) return "http://" + url[5..];
        return url;
    }
}
