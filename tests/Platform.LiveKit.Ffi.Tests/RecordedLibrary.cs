using System.Collections.Concurrent;
using Google.Protobuf;
using Platform.LiveKit.Ffi.Proto;

namespace Platform.LiveKit.Ffi.Tests;

/// <summary>
/// Stands in for LiveKit's FFI library where only a server could make it act (a joined room): answers requests with the
/// response shapes the library returns and emits events encoded exactly as it does. Events go through
/// <see cref="FfiClient"/>'s own decode-and-dispatch path, the one the native callback uses.
/// </summary>
internal sealed class RecordedLibrary
{
    public const string LocalIdentity = "replica-worker";
    private ulong nextHandle = 1UL << 40; // far from the real library's ids: dropping these is a no-op there

    public RecordedLibrary()
    {
        _ = FfiClient.Instance; // the real library is loaded: FfiHandle drops go to it (unknown ids are ignored)
        Client = FfiClient.ForTransport(Answer);
        RoomHandle = NextHandle();
        LocalParticipantHandle = NextHandle();
    }

    public FfiClient Client { get; }

    public ulong RoomHandle { get; }

    public ulong LocalParticipantHandle { get; }

    public ConcurrentQueue<FfiRequest> Requests { get; } = new();

    public ConcurrentQueue<(string Topic, byte[] Data)> PublishedData { get; } = new();

    /// <summary>Answer of the remote participant to our RPC calls (null: success with "ok").</summary>
    public RpcError? RpcAnswerError { get; set; }

    public ulong NextHandle() => Interlocked.Increment(ref nextHandle);

    /// <summary>Encodes and delivers one event as the native callback would.</summary>
    public void Emit(FfiEvent ev) => Client.Deliver(ev.ToByteArray());

    public void EmitRoomEvent(RoomEvent ev)
    {
        ev.RoomHandle = RoomHandle;
        Emit(new FfiEvent { RoomEvent = ev });
    }

    public IEnumerable<T> Sent<T>(Func<FfiRequest, T?> select) where T : class => Requests.Select(select).OfType<T>();

    private FfiResponse Answer(FfiRequest request)
    {
        Requests.Enqueue(request);
        switch (request.MessageCase)
        {
            case FfiRequest.MessageOneofCase.Connect:
            {
                var id = request.Connect.RequestAsyncId;
                // The callback can beat the response back to the caller: emit it first.
                Emit(new FfiEvent
                {
                    Connect = new ConnectCallback
                    {
                        AsyncId = id,
                        Result = new ConnectCallback.Types.Result
                        {
                            Room = new OwnedRoom { Handle = new FfiOwnedHandle { Id = RoomHandle }, Info = new RoomInfo { Sid = "RM_tenant", Name = "tenant-room" } },
                            LocalParticipant = new OwnedParticipant
                            {
                                Handle = new FfiOwnedHandle { Id = LocalParticipantHandle },
                                Info = new ParticipantInfo { Sid = "PA_worker", Identity = LocalIdentity, Name = "Replica", Kind = ParticipantKind.Agent },
                            },
                        },
                    },
                });
                return new FfiResponse { Connect = new ConnectResponse { AsyncId = id } };
            }
            case FfiRequest.MessageOneofCase.ReadyForRoomEvent:
                return new FfiResponse { ReadyForRoomEvent = new ReadyForRoomEventResponse() };
            case FfiRequest.MessageOneofCase.RegisterRpcMethod:
                return new FfiResponse { RegisterRpcMethod = new RegisterRpcMethodResponse() };
            case FfiRequest.MessageOneofCase.ByteReadIncremental:
                return new FfiResponse { ByteReadIncremental = new ByteStreamReaderReadIncrementalResponse() };
            case FfiRequest.MessageOneofCase.RpcMethodInvocationResponse:
                return new FfiResponse { RpcMethodInvocationResponse = new RpcMethodInvocationResponseResponse() };
            case FfiRequest.MessageOneofCase.PerformRpc:
            {
                var id = request.PerformRpc.RequestAsyncId;
                var callback = new PerformRpcCallback { AsyncId = id };
                if (RpcAnswerError is { } error) callback.Error = error;
                else callback.Payload = "ok";
                _ = Task.Run(() => Emit(new FfiEvent { PerformRpc = callback }));
                return new FfiResponse { PerformRpc = new PerformRpcResponse { AsyncId = id } };
            }
            case FfiRequest.MessageOneofCase.PublishTrack:
            {
                var id = request.PublishTrack.RequestAsyncId;
                var publication = new OwnedTrackPublication
                {
                    Handle = new FfiOwnedHandle { Id = NextHandle() },
                    Info = new TrackPublicationInfo { Sid = $"TR_{id}", Source = request.PublishTrack.Options.Source },
                };
                _ = Task.Run(() => Emit(new FfiEvent { PublishTrack = new PublishTrackCallback { AsyncId = id, Publication = publication } }));
                return new FfiResponse { PublishTrack = new PublishTrackResponse { AsyncId = id } };
            }
            case FfiRequest.MessageOneofCase.PublishData:
            {
                var id = request.PublishData.RequestAsyncId;
                unsafe
                {
                    // The caller's buffer is valid while the request is handled, as for the library (which copies it).
                    PublishedData.Enqueue((request.PublishData.Topic,
                        new ReadOnlySpan<byte>((void*)request.PublishData.DataPtr, (int)request.PublishData.DataLen).ToArray()));
                }
                _ = Task.Run(() => Emit(new FfiEvent { PublishData = new PublishDataCallback { AsyncId = id } }));
                return new FfiResponse { PublishData = new PublishDataResponse { AsyncId = id } };
            }
            case FfiRequest.MessageOneofCase.AudioStreamFromParticipant:
                return new FfiResponse
                {
                    AudioStreamFromParticipant = new AudioStreamFromParticipantResponse
                    {
                        Stream = new OwnedAudioStream
                        {
                            Handle = new FfiOwnedHandle { Id = NextHandle() },
                            Info = new AudioStreamInfo { Type = request.AudioStreamFromParticipant.Type },
                        },
                    },
                };
            case FfiRequest.MessageOneofCase.Disconnect:
            {
                var id = request.Disconnect.RequestAsyncId;
                _ = Task.Run(() => Emit(new FfiEvent { Disconnect = new DisconnectCallback { AsyncId = id } }));
                return new FfiResponse { Disconnect = new DisconnectResponse { AsyncId = id } };
            }
            default:
                throw new FfiException($"the recorded library has no answer for {request.MessageCase}");
        }
    }
}

internal static class Eventually
{
    /// <summary>Waits for <paramref name="condition"/> (set by other threads) up to a deadline; fails with <paramref name="what"/>.</summary>
    public static async Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(5);
        }
    }
}
