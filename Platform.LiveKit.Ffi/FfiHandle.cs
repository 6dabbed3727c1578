using System.Runtime.InteropServices;
using Platform.LiveKit.Ffi.Native;

namespace Platform.LiveKit.Ffi;

/// <summary>
/// An owned handle of LiveKit's FFI library (room, participant, source, track, stream, buffer, response...). Disposing it
/// (or finalising it) drops the handle in the library. <see cref="Outstanding"/> counts handles not yet dropped, so
/// tests can prove that nothing leaks.
/// </summary>
public sealed class FfiHandle : SafeHandle
{
    private static long outstanding;

    internal FfiHandle(ulong id)
        : base(0, ownsHandle: true)
    {
        SetHandle((nint)id);
        if (id != 0) Interlocked.Increment(ref outstanding);
    }

    /// <summary>Handles created in this process and not yet dropped.</summary>
    public static long Outstanding => Interlocked.Read(ref outstanding);

    public ulong Id => (ulong)handle;

    public override bool IsInvalid => handle == 0;

    internal static FfiHandle From(Proto.FfiOwnedHandle? owned) =>
        new(owned?.Id ?? throw new FfiException("the FFI library returned no handle"));

    protected override unsafe bool ReleaseHandle()
    {
        Interlocked.Decrement(ref outstanding);
        return FfiNative.DropHandle((ulong)handle) != 0;
    }
}
