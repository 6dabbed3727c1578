using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Google.Protobuf;
using Platform.LiveKit.Ffi.Media;
using Platform.LiveKit.Ffi.Proto;

namespace Platform.LiveKit.Ffi.Rooms;

/// <summary>Options of <see cref="LiveKitRoom.ConnectAsync"/>.</summary>
public sealed record LiveKitConnectOptions
{
    /// <summary>Subscribe to every remote track as it is published (the worker wants the user's microphone).</summary>
    public bool AutoSubscribe { get; init; } = true;

    public bool Dynacast { get; init; }

    /// <summary>How many times the library retries the first join.</summary>
    public uint JoinRetries { get; init; } = 3;

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// This process as a participant of a LiveKit room, through LiveKit's FFI library: connect with a URL and token,
/// read what happens from <see cref="Events"/>, publish tracks and data, answer and make RPC calls, leave.
/// The library reconnects by itself after network loss (<see cref="ConnectionReconnecting"/> /
/// <see cref="ConnectionReconnected"/>); <see cref="RoomDisconnected"/> is final. Disposing leaves the room and drops
/// every handle the room owns.
/// </summary>
public sealed class LiveKitRoom : IAsyncDisposable
{
    private readonly FfiClient client;
    private readonly Channel<LiveKitRoomEvent> events = Channel.CreateUnbounded<LiveKitRoomEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, RemoteParticipant> participants = new();
    private readonly ConcurrentDictionary<string, RemoteTrack> tracks = new();
    private readonly ConcurrentDictionary<ulong, ByteStreamReader> readers = new();
    private readonly ConcurrentDictionary<string, FfiHandle> publications = new();
    private readonly Channel<(FfiEvent Event, byte[]? Data)> inbox =
        Channel.CreateUnbounded<(FfiEvent, byte[]?)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock gate = new();
    private int disposed;

    private LiveKitRoom(FfiClient client, ConnectCallback.Types.Result result)
    {
        this.client = client;
        Handle = FfiHandle.From(result.Room.Handle);
        Info = result.Room.Info;
        LocalParticipant = FfiHandle.From(result.LocalParticipant.Handle);
        LocalIdentity = result.LocalParticipant.Info.Identity;
        foreach (var p in result.Participants)
        {
            var participant = new RemoteParticipant(FfiHandle.From(p.Participant.Handle), p.Participant.Info);
            participants[participant.Identity] = participant;
            foreach (var publication in p.Publications) FfiHandle.From(publication.Handle).Dispose();
        }
    }

    public RoomInfo Info { get; }

    public string Name => Info.Name;

    public string LocalIdentity { get; }

    /// <summary>Participants in the room now (those present at join included), by identity.</summary>
    public IReadOnlyDictionary<string, RemoteParticipant> Participants => participants;

    public ChannelReader<LiveKitRoomEvent> Events => events.Reader;

    public bool IsConnected => Volatile.Read(ref disposed) == 0 && !events.Reader.Completion.IsCompleted;

    internal FfiHandle Handle { get; }

    internal FfiHandle LocalParticipant { get; }

    /// <summary>Joins the room at <paramref name="url"/> (ws:// or wss://) with an access token.</summary>
    public static Task<LiveKitRoom> ConnectAsync(string url, string token, LiveKitConnectOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(FfiClient.Instance, url, token, options, cancellationToken);

    internal static async Task<LiveKitRoom> ConnectAsync(FfiClient client, string url, string token, LiveKitConnectOptions? options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        ArgumentException.ThrowIfNullOrEmpty(token);
        options ??= new LiveKitConnectOptions();
        var ev = await client.RequestAsync(new FfiRequest
        {
            Connect = new ConnectRequest
            {
                Url = url,
                Token = token,
                Options = new RoomOptions
                {
                    AutoSubscribe = options.AutoSubscribe,
                    AdaptiveStream = false,
                    Dynacast = options.Dynacast,
                    JoinRetries = options.JoinRetries,
                    ConnectTimeoutMs = (ulong)options.ConnectTimeout.TotalMilliseconds,
                },
            },
        }, cancellationToken).ConfigureAwait(false);
        var callback = ev.Connect;
        if (callback.MessageCase != ConnectCallback.MessageOneofCase.Result)
        {
            throw new FfiException($"could not join the LiveKit room: {(callback.HasError ? callback.Error : "no result")}");
        }
        var room = new LiveKitRoom(client, callback.Result);
        client.EventReceived += room.OnEvent;
        _ = Task.Run(room.ProcessAsync);
        // Room events are held back by the library until this request: nothing is missed between join and subscribe.
        client.Request(new FfiRequest { ReadyForRoomEvent = new ReadyForRoomEventRequest { RoomHandle = room.Handle.Id } });
        return room;
    }

    /// <summary>Publishes a local track (microphone for audio, camera for video).</summary>
    public async Task<string> PublishTrackAsync(LocalTrack track, CancellationToken cancellationToken = default)
    {
        var ev = await client.RequestAsync(new FfiRequest
        {
            PublishTrack = new PublishTrackRequest
            {
                LocalParticipantHandle = LocalParticipant.Id,
                TrackHandle = track.Handle.Id,
                Options = new TrackPublishOptions { Source = track.Source, Dtx = false, Red = true, Simulcast = false },
            },
        }, cancellationToken).ConfigureAwait(false);
        var callback = ev.PublishTrack;
        if (callback.MessageCase != PublishTrackCallback.MessageOneofCase.Publication)
        {
            throw new FfiException($"could not publish {track.Info.Name}: {(callback.HasError ? callback.Error : "no publication")}");
        }
        var sid = callback.Publication.Info.Sid;
        publications[sid] = FfiHandle.From(callback.Publication.Handle);
        return sid;
    }

    /// <summary>Sends a data packet on <paramref name="topic"/> (reliable by default) to everyone or to the identities given.</summary>
    public async Task PublishDataAsync(ReadOnlyMemory<byte> data, string topic, bool reliable = true,
        IEnumerable<string>? destinationIdentities = null, CancellationToken cancellationToken = default)
    {
        using var pin = data.Pin();
        var request = PublishDataRequest(pin, data.Length, topic, reliable);
        if (destinationIdentities is not null) request.PublishData.DestinationIdentities.AddRange(destinationIdentities);
        var ev = await client.RequestAsync(request, cancellationToken).ConfigureAwait(false);
        if (ev.PublishData.HasError) throw new FfiException($"data packet on {topic} failed: {ev.PublishData.Error}");
    }

    /// <summary>Sends a text stream on <paramref name="topic"/> (LiveKit's data streams).</summary>
    public async Task SendTextAsync(string text, string topic, IReadOnlyDictionary<string, string>? attributes = null,
        IEnumerable<string>? destinationIdentities = null, CancellationToken cancellationToken = default)
    {
        var options = new StreamTextOptions { Topic = topic };
        if (attributes is not null) foreach (var (k, v) in attributes) options.Attributes[k] = v;
        if (destinationIdentities is not null) options.DestinationIdentities.AddRange(destinationIdentities);
        var ev = await client.RequestAsync(new FfiRequest
        {
            SendText = new StreamSendTextRequest { LocalParticipantHandle = LocalParticipant.Id, Text = text, Options = options },
        }, cancellationToken).ConfigureAwait(false);
        if (ev.SendText.ResultCase == StreamSendTextCallback.ResultOneofCase.Error)
        {
            throw new FfiException($"text stream on {topic} failed: {ev.SendText.Error.Description}");
        }
    }

    /// <summary>Calls an RPC method of another participant; returns its response payload.</summary>
    public async Task<string> PerformRpcAsync(string destinationIdentity, string method, string payload, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default)
    {
        var ev = await client.RequestAsync(new FfiRequest
        {
            PerformRpc = new PerformRpcRequest
            {
                LocalParticipantHandle = LocalParticipant.Id,
                DestinationIdentity = destinationIdentity,
                Method = method,
                Payload = payload,
                ResponseTimeoutMs = (uint)(timeout ?? TimeSpan.FromSeconds(10)).TotalMilliseconds,
            },
        }, cancellationToken).ConfigureAwait(false);
        var callback = ev.PerformRpc;
        if (callback.Error is { } error) throw new RpcException(error.Code, error.Message, error.HasData ? error.Data : null);
        return callback.Payload;
    }

    /// <summary>Registers an RPC method; calls arrive as <see cref="RpcInvoked"/> events.</summary>
    public void RegisterRpcMethod(string method)
    {
        client.Request(new FfiRequest
        {
            RegisterRpcMethod = new RegisterRpcMethodRequest { LocalParticipantHandle = LocalParticipant.Id, Method = method },
        });
    }

    /// <summary>Answers an RPC invocation with a payload, or with an error when <paramref name="error"/> is set.</summary>
    public void RespondToRpc(RpcInvocation invocation, string? payload, RpcException? error = null)
    {
        var response = new RpcMethodInvocationResponseRequest { LocalParticipantHandle = LocalParticipant.Id, InvocationId = invocation.InvocationId };
        if (error is not null)
        {
            response.Error = new RpcError { Code = error.Code, Message = error.Message };
            if (error.ErrorData is not null) response.Error.Data = error.ErrorData;
        }
        else
        {
            response.Payload = payload ?? "";
        }
        client.Request(new FfiRequest { RpcMethodInvocationResponse = response });
    }

    /// <summary>Opens a stream of a remote participant's microphone, mixed to mono and resampled by the library.</summary>
    public RemoteAudioStream OpenAudioStream(RemoteParticipant participant, int sampleRate = 16_000, TrackSource source = TrackSource.SourceMicrophone)
    {
        var response = client.Request(new FfiRequest
        {
            AudioStreamFromParticipant = new AudioStreamFromParticipantRequest
            {
                ParticipantHandle = participant.Handle.Id,
                Type = AudioStreamType.AudioStreamNative,
                TrackSource = source,
                SampleRate = (uint)sampleRate,
                NumChannels = 1,
            },
        });
        return new RemoteAudioStream(client, FfiHandle.From(response.AudioStreamFromParticipant.Stream.Handle), sampleRate);
    }

    /// <summary>Opens a stream of a subscribed remote audio track, mixed to mono and resampled by the library.</summary>
    public RemoteAudioStream OpenAudioStream(RemoteTrack track, int sampleRate = 16_000)
    {
        var response = client.Request(new FfiRequest
        {
            NewAudioStream = new NewAudioStreamRequest
            {
                TrackHandle = track.Handle.Id,
                Type = AudioStreamType.AudioStreamNative,
                SampleRate = (uint)sampleRate,
                NumChannels = 1,
            },
        });
        return new RemoteAudioStream(client, FfiHandle.From(response.NewAudioStream.Stream.Handle), sampleRate);
    }

    /// <summary>Leaves the room (waits up to <paramref name="timeout"/> for the library) and drops every handle.</summary>
    public async ValueTask DisposeAsync() => await DisconnectAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);

    public async Task DisconnectAsync(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        try
        {
            using var cts = new CancellationTokenSource(timeout);
            await client.RequestAsync(new FfiRequest
            {
                Disconnect = new DisconnectRequest { RoomHandle = Handle.Id, Reason = DisconnectReason.ClientInitiated },
            }, cts.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or FfiException)
        {
            // The room is gone either way: the handles below are dropped regardless.
        }
        finally
        {
            client.EventReceived -= OnEvent;
            inbox.Writer.TryComplete();
            ReleaseAll(DisconnectReason.ClientInitiated);
        }
    }

    private void ReleaseAll(DisconnectReason reason)
    {
        lock (gate)
        {
            foreach (var reader in readers.Values)
            {
                reader.Abort("the room was left");
                reader.Handle.Dispose();
            }
            readers.Clear();
            foreach (var t in tracks.Values) t.Handle.Dispose();
            tracks.Clear();
            foreach (var p in participants.Values) p.Handle.Dispose();
            participants.Clear();
            foreach (var h in publications.Values) h.Dispose();
            publications.Clear();
            LocalParticipant.Dispose();
            Handle.Dispose();
            events.Writer.TryWrite(new RoomDisconnected(reason));
            events.Writer.TryComplete();
        }
    }

    // Runs on the library's callback thread: only copies what cannot wait (a data packet's buffer) and queues the event.
    // Everything else, requests back into the library included, happens on the room's own task (ProcessAsync).
    private void OnEvent(FfiEvent ev)
    {
        switch (ev.MessageCase)
        {
            case FfiEvent.MessageOneofCase.RoomEvent when ev.RoomEvent.RoomHandle == Handle.Id:
                var packet = ev.RoomEvent.DataPacketReceived;
                byte[]? data = null;
                if (packet is not null && packet.ValueCase == DataPacketReceived.ValueOneofCase.User) data = CopyAndDrop(packet.User.Data);
                inbox.Writer.TryWrite((ev, data));
                break;
            case FfiEvent.MessageOneofCase.ByteStreamReaderEvent:
                inbox.Writer.TryWrite((ev, null));
                break;
            case FfiEvent.MessageOneofCase.RpcMethodInvocation when ev.RpcMethodInvocation.LocalParticipantHandle == LocalParticipant.Id:
                inbox.Writer.TryWrite((ev, null));
                break;
        }
    }

    private async Task ProcessAsync()
    {
        await foreach (var (ev, data) in inbox.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            lock (gate)
            {
                if (Handle.IsClosed) continue;
                switch (ev.MessageCase)
                {
                    case FfiEvent.MessageOneofCase.RoomEvent:
                        OnRoomEvent(ev.RoomEvent, data);
                        break;
                    case FfiEvent.MessageOneofCase.ByteStreamReaderEvent when readers.TryGetValue(ev.ByteStreamReaderEvent.ReaderHandle, out var reader):
                        if (reader.Apply(ev.ByteStreamReaderEvent) && readers.TryRemove(reader.Handle.Id, out _)) reader.Handle.Dispose();
                        break;
                    case FfiEvent.MessageOneofCase.RpcMethodInvocation:
                        var rpc = ev.RpcMethodInvocation;
                        events.Writer.TryWrite(new RpcInvoked(new RpcInvocation(rpc.InvocationId, rpc.Method, rpc.RequestId, rpc.CallerIdentity,
                            rpc.Payload, TimeSpan.FromMilliseconds(rpc.ResponseTimeoutMs))));
                        break;
                }
            }
        }
    }

    private void OnRoomEvent(RoomEvent ev, byte[]? data)
    {
        {
            switch (ev.MessageCase)
            {
                case RoomEvent.MessageOneofCase.ParticipantConnected:
                {
                    var info = ev.ParticipantConnected.Info;
                    var participant = new RemoteParticipant(FfiHandle.From(info.Handle), info.Info);
                    if (participants.TryRemove(participant.Identity, out var stale)) stale.Handle.Dispose();
                    participants[participant.Identity] = participant;
                    events.Writer.TryWrite(new ParticipantJoined(participant));
                    break;
                }
                case RoomEvent.MessageOneofCase.ParticipantDisconnected:
                {
                    var identity = ev.ParticipantDisconnected.ParticipantIdentity;
                    if (participants.TryRemove(identity, out var gone)) gone.Handle.Dispose();
                    events.Writer.TryWrite(new ParticipantLeft(identity, ev.ParticipantDisconnected.DisconnectReason));
                    break;
                }
                case RoomEvent.MessageOneofCase.TrackSubscribed:
                {
                    var track = new RemoteTrack(FfiHandle.From(ev.TrackSubscribed.Track.Handle), ev.TrackSubscribed.Track.Info);
                    if (tracks.TryRemove(track.Sid, out var stale)) stale.Handle.Dispose();
                    tracks[track.Sid] = track;
                    events.Writer.TryWrite(new TrackSubscribed(ev.TrackSubscribed.ParticipantIdentity, track));
                    break;
                }
                case RoomEvent.MessageOneofCase.TrackUnsubscribed:
                    if (tracks.TryRemove(ev.TrackUnsubscribed.TrackSid, out var unsubscribed)) unsubscribed.Handle.Dispose();
                    events.Writer.TryWrite(new TrackUnsubscribed(ev.TrackUnsubscribed.ParticipantIdentity, ev.TrackUnsubscribed.TrackSid));
                    break;
                case RoomEvent.MessageOneofCase.TrackPublished:
                    FfiHandle.From(ev.TrackPublished.Publication.Handle).Dispose();
                    break;
                case RoomEvent.MessageOneofCase.LocalTrackPublished:
                case RoomEvent.MessageOneofCase.LocalTrackUnpublished:
                    break;
                case RoomEvent.MessageOneofCase.DataPacketReceived when ev.DataPacketReceived.ValueCase == DataPacketReceived.ValueOneofCase.User:
                {
                    var packet = ev.DataPacketReceived;
                    events.Writer.TryWrite(new DataReceived(packet.ParticipantIdentity, packet.User.Topic, data ?? [],
                        packet.Kind == DataPacketKind.KindReliable));
                    break;
                }
                case RoomEvent.MessageOneofCase.ByteStreamOpened:
                {
                    var opened = ev.ByteStreamOpened;
                    var reader = new ByteStreamReader(FfiHandle.From(opened.Reader.Handle), opened.Reader.Info, opened.ParticipantIdentity);
                    readers[reader.Handle.Id] = reader;
                    try
                    {
                        // Chunks flow as ByteStreamReaderEvents from here on.
                        client.Request(new FfiRequest
                        {
                            ByteReadIncremental = new ByteStreamReaderReadIncrementalRequest { ReaderHandle = reader.Handle.Id },
                        });
                    }
                    catch (FfiException e)
                    {
                        readers.TryRemove(reader.Handle.Id, out _);
                        reader.Abort(e.Message);
                        reader.Handle.Dispose();
                    }
                    events.Writer.TryWrite(new ByteStreamReceived(reader));
                    break;
                }
                case RoomEvent.MessageOneofCase.Reconnecting:
                    events.Writer.TryWrite(new ConnectionReconnecting());
                    break;
                case RoomEvent.MessageOneofCase.Reconnected:
                    events.Writer.TryWrite(new ConnectionReconnected());
                    break;
                case RoomEvent.MessageOneofCase.Disconnected:
                    Interlocked.Exchange(ref disposed, 1);
                    client.EventReceived -= OnEvent;
                    inbox.Writer.TryComplete();
                    ReleaseAll(ev.Disconnected.Reason);
                    break;
            }
        }
    }

    private static unsafe byte[] CopyAndDrop(OwnedBuffer buffer)
    {
        using var handle = FfiHandle.From(buffer.Handle);
        var length = checked((int)buffer.Data.DataLen);
        if (length == 0) return [];
        return new ReadOnlySpan<byte>((void*)buffer.Data.DataPtr, length).ToArray();
    }

    private unsafe FfiRequest PublishDataRequest(System.Buffers.MemoryHandle pin, int length, string topic, bool reliable) => new()
    {
        PublishData = new PublishDataRequest
        {
            LocalParticipantHandle = LocalParticipant.Id,
            DataPtr = (ulong)pin.Pointer,
            DataLen = (ulong)length,
            Reliable = reliable,
            Topic = topic,
        },
    };
}

/// <summary>An RPC error (LiveKit's codes: 1400 application error, 1500 connection timeout, 1501 response timeout...).</summary>
public sealed class RpcException(uint code, string message, string? data = null) : Exception(message)
{
    public uint Code { get; } = code;

    public string? ErrorData { get; } = data;
}
