using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Platform.LiveKit.Ffi.Native;
using Platform.LiveKit.Ffi.Proto;

namespace Platform.LiveKit.Ffi;

/// <summary>
/// The process-wide connection to LiveKit's FFI library: initialised once with an unmanaged callback, then
/// request/response calls (<see cref="Request"/>) and async requests completed by their <c>async_id</c> callback
/// (<see cref="RequestAsync"/>). Every other event goes to <see cref="EventReceived"/> subscribers (rooms, streams).
/// The callback runs on the library's threads: handlers must be quick and must not throw.
/// </summary>
public sealed class FfiClient
{
    private const string SdkName = "dotnet";

    private static readonly Lock CreateGate = new();
    private static volatile FfiClient? current;

    // Our own async ids live far above the library's handle counter, so they never collide with ids it picks itself.
    private long nextAsyncId = 1L << 48;
    private readonly Lock asyncGate = new();
    private readonly Dictionary<ulong, TaskCompletionSource<FfiEvent>> pending = [];
    private readonly Dictionary<ulong, FfiEvent> early = [];
    private readonly HashSet<ulong> abandoned = [];
    private readonly ConcurrentDictionary<MessageDescriptor, FieldDescriptor?> asyncIdFields = new();

    // Tests stand in for the library's request entry point; events still go through Deliver, as in production.
    private readonly Func<FfiRequest, FfiResponse>? transport;

    private FfiClient(Func<FfiRequest, FfiResponse>? transport = null)
    {
        this.transport = transport;
    }

    /// <summary>A client whose requests are answered by <paramref name="transport"/> (a recorded library), for tests.</summary>
    internal static FfiClient ForTransport(Func<FfiRequest, FfiResponse> transport) => new(transport);

    /// <summary>The client, loading and initialising the native library on first use.</summary>
    public static unsafe FfiClient Instance
    {
        get
        {
            if (current is { } c) return c;
            lock (CreateGate)
            {
                if (current is not null) return current;
                FfiNative.EnsureLoaded();
                var client = new FfiClient();
                current = client; // before initialising: the library may call back at once
                var sdk = Encoding.UTF8.GetBytes(SdkName + "\0");
                var version = Encoding.UTF8.GetBytes(
                    (typeof(FfiClient).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
                    .Split('+')[0] + "\0");
                fixed (byte* s = sdk)
                fixed (byte* v = version)
                {
                    FfiNative.Initialize(&OnNativeEvent, 0, s, v);
                }
                return client;
            }
        }
    }

    /// <summary>Every event that is not the completion of an awaited request (room, track, stream, RPC, log events).</summary>
    public event Action<FfiEvent>? EventReceived;

    /// <summary>An exception thrown by an event handler (it never reaches the native caller).</summary>
    public event Action<Exception>? HandlerFailed;

    /// <summary>A synchronous request; throws <see cref="FfiException"/> when the library rejects it.</summary>
    public unsafe FfiResponse Request(FfiRequest request)
    {
        if (transport is not null) return transport(request);
        var bytes = request.ToByteArray();
        byte* resPtr = null;
        nuint resLen = 0;
        ulong responseHandle;
        fixed (byte* p = bytes)
        {
            responseHandle = FfiNative.Request(p, (nuint)bytes.Length, &resPtr, &resLen);
        }
        if (responseHandle == 0) throw new FfiException($"the LiveKit FFI library rejected the {request.MessageCase} request");
        try
        {
            return FfiResponse.Parser.ParseFrom(new ReadOnlySpan<byte>(resPtr, checked((int)resLen)));
        }
        finally
        {
            FfiNative.DropHandle(responseHandle);
        }
    }

    /// <summary>
    /// An asynchronous request: sets its <c>request_async_id</c> (where the schema has one), sends it, and completes
    /// with the callback event carrying the same <c>async_id</c>.
    /// </summary>
    public async Task<FfiEvent> RequestAsync(FfiRequest request, CancellationToken cancellationToken = default)
    {
        var ourId = (ulong)Interlocked.Increment(ref nextAsyncId);
        var body = OneofMessage(request);
        var requestIdField = body.Descriptor.FindFieldByName("request_async_id");
        requestIdField?.Accessor.SetValue(body, ourId);

        var tcs = new TaskCompletionSource<FfiEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (requestIdField is not null) Register(ourId, tcs);
        FfiResponse response;
        try
        {
            response = Request(request);
        }
        catch
        {
            if (requestIdField is not null) Unregister(ourId);
            throw;
        }
        var theirId = AsyncIdOf(OneofMessage(response))
            ?? throw new FfiException($"the {response.MessageCase} response carries no async_id");
        if (requestIdField is null || theirId != ourId)
        {
            // An older library ignores request_async_id: wait on the id it chose instead.
            if (requestIdField is not null) Unregister(ourId);
            Register(theirId, tcs);
        }
        using (cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken)))
        {
            try
            {
                return await tcs.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                Abandon(theirId); // its callback may still come: drop it then instead of keeping it
                throw;
            }
            finally
            {
                Unregister(theirId);
            }
        }
    }

    /// <summary>Handles of async requests still awaiting their callback (for tests).</summary>
    internal int PendingRequests
    {
        get
        {
            lock (asyncGate) return pending.Count;
        }
    }

    /// <summary>
    /// Decodes and dispatches one event exactly as the native callback does. Tests use it to drive handlers with
    /// events recorded in the library's wire format.
    /// </summary>
    internal void Deliver(ReadOnlySpan<byte> encodedEvent)
    {
        var ev = FfiEvent.Parser.ParseFrom(encodedEvent);
        var body = ev.MessageCase == FfiEvent.MessageOneofCase.None ? null : OneofMessage(ev);
        if (body is not null && AsyncIdOf(body) is { } asyncId && IsCallback(ev))
        {
            TaskCompletionSource<FfiEvent>? waiter;
            lock (asyncGate)
            {
                if (!pending.Remove(asyncId, out waiter) && !abandoned.Remove(asyncId)) early[asyncId] = ev;
            }
            waiter?.TrySetResult(ev);
            return;
        }
        var handlers = EventReceived;
        if (handlers is null) return;
        foreach (var handler in handlers.GetInvocationList().Cast<Action<FfiEvent>>())
        {
            try
            {
                handler(ev);
            }
            catch (Exception e)
            {
                HandlerFailed?.Invoke(e);
            }
        }
    }

    // Room, track and stream events carry handles, not async ids; everything else with an async_id is a callback.
    private static bool IsCallback(FfiEvent ev) => ev.MessageCase is not (FfiEvent.MessageOneofCase.RoomEvent
        or FfiEvent.MessageOneofCase.TrackEvent or FfiEvent.MessageOneofCase.AudioStreamEvent
        or FfiEvent.MessageOneofCase.VideoStreamEvent or FfiEvent.MessageOneofCase.ByteStreamReaderEvent
        or FfiEvent.MessageOneofCase.TextStreamReaderEvent or FfiEvent.MessageOneofCase.RpcMethodInvocation
        or FfiEvent.MessageOneofCase.Logs or FfiEvent.MessageOneofCase.Panic);

    private void Register(ulong asyncId, TaskCompletionSource<FfiEvent> tcs)
    {
        FfiEvent? arrived;
        lock (asyncGate)
        {
            if (!early.Remove(asyncId, out arrived)) pending[asyncId] = tcs;
        }
        if (arrived is not null) tcs.TrySetResult(arrived);
    }

    private void Abandon(ulong asyncId)
    {
        lock (asyncGate)
        {
            if (!early.Remove(asyncId)) abandoned.Add(asyncId);
        }
    }

    private void Unregister(ulong asyncId)
    {
        lock (asyncGate) pending.Remove(asyncId);
    }

    private static IMessage OneofMessage(IMessage message)
    {
        var oneof = message.Descriptor.Oneofs[0];
        var field = oneof.Accessor.GetCaseFieldDescriptor(message)
            ?? throw new FfiException($"{message.Descriptor.Name} has no {oneof.Name} set");
        return (IMessage)field.Accessor.GetValue(message);
    }

    private ulong? AsyncIdOf(IMessage body)
    {
        var field = asyncIdFields.GetOrAdd(body.Descriptor, d => d.FindFieldByName("async_id"));
        if (field is null || !field.Accessor.HasValue(body)) return null;
        return (ulong)field.Accessor.GetValue(body);
    }

    [UnmanagedCallersOnly]
    private static unsafe void OnNativeEvent(byte* data, nuint length)
    {
        try
        {
            current?.Deliver(new ReadOnlySpan<byte>(data, checked((int)length)));
        }
        catch (Exception e)
        {
            // Never unwind into native code.
            try
            {
                current?.HandlerFailed?.Invoke(e);
            }
            catch
            {
                // nothing more can be done on the library's thread
            }
        }
    }
}
