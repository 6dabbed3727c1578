using System.Runtime.InteropServices;

namespace Platform.LiveKit.Ffi.Native;

/// <summary>
/// Loads LiveKit's FFI library (the Node binding build from npm, which exports the plain C ABI) and resolves its four
/// entry points. The binding also imports N-API symbols and is linked BIND_NOW, so a stub library defining them (built
/// by infra/install.d/45-livekit-ffi.sh) is loaded first with RTLD_GLOBAL; the C ABI never calls them.
/// </summary>
internal static unsafe partial class FfiNative
{
    public const string AssetsEnvVar = "PLATFORM_LIVEKIT_FFI_DIR";
    private const string NodeLibrary = "native/rtc-node.linux-x64-gnu.node";
    private const string StubLibrary = "libnapi_stub.so";
    private const int RtldNow = 0x2;
    private const int RtldGlobal = 0x100;

    private static readonly Lock Gate = new();
    private static bool loaded;

    /// <summary><c>void livekit_ffi_initialize(cb, capture_logs, sdk, sdk_version)</c>.</summary>
    public static delegate* unmanaged<delegate* unmanaged<byte*, nuint, void>, byte, byte*, byte*, void> Initialize;

    /// <summary><c>uint64 livekit_ffi_request(data, len, &amp;res_ptr, &amp;res_len)</c>: a handle owning the response, 0 on failure.</summary>
    public static delegate* unmanaged<byte*, nuint, byte**, nuint*, ulong> Request;

    /// <summary><c>bool livekit_ffi_drop_handle(handle)</c>.</summary>
    public static delegate* unmanaged<ulong, byte> DropHandle;

    /// <summary><c>void livekit_ffi_dispose()</c>.</summary>
    public static delegate* unmanaged<void> Dispose;

    /// <summary>The platform's assets root (the same variable the face and VAD assets honour).</summary>
    public const string PlatformAssetsEnvVar = "PLATFORM_ASSETS";

    /// <summary>
    /// The folder holding the packed npm packages and the stub: PLATFORM_LIVEKIT_FFI_DIR, else PLATFORM_ASSETS/livekit-ffi,
    /// else .assets/livekit-ffi next to Platform.sln.
    /// </summary>
    public static string AssetsDirectory()
    {
        var fromEnv = Environment.GetEnvironmentVariable(AssetsEnvVar);
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        var assets = Environment.GetEnvironmentVariable(PlatformAssetsEnvVar);
        if (!string.IsNullOrWhiteSpace(assets) && Directory.Exists(Path.Combine(assets, "livekit-ffi"))) return Path.Combine(assets, "livekit-ffi");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Platform.sln"))) return Path.Combine(dir.FullName, ".assets", "livekit-ffi");
        }
        throw new FfiException(
            $"No Platform.sln above {AppContext.BaseDirectory} and {AssetsEnvVar} is not set: cannot find .assets/livekit-ffi (run infra/install.sh).");
    }

    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (loaded) return;
            if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            {
                throw new PlatformNotSupportedException("The LiveKit FFI library is loaded from its linux-x64-gnu build only.");
            }
            var dir = AssetsDirectory();
            var stub = Path.Combine(dir, StubLibrary);
            var node = Path.Combine(dir, NodeLibrary);
            if (!File.Exists(stub) || !File.Exists(node))
            {
                throw new FfiException($"LiveKit FFI library not found in {dir} (run infra/install.d/45-livekit-ffi.sh).");
            }
            if (DlOpen(stub, RtldNow | RtldGlobal) == 0)
            {
                throw new FfiException($"dlopen {stub} failed: {Marshal.PtrToStringUTF8(DlError())}");
            }
            var lib = NativeLibrary.Load(node);
            Initialize = (delegate* unmanaged<delegate* unmanaged<byte*, nuint, void>, byte, byte*, byte*, void>)
                NativeLibrary.GetExport(lib, "livekit_ffi_initialize");
            Request = (delegate* unmanaged<byte*, nuint, byte**, nuint*, ulong>)NativeLibrary.GetExport(lib, "livekit_ffi_request");
            DropHandle = (delegate* unmanaged<ulong, byte>)NativeLibrary.GetExport(lib, "livekit_ffi_drop_handle");
            Dispose = (delegate* unmanaged<void>)NativeLibrary.GetExport(lib, "livekit_ffi_dispose");
            loaded = true;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string path, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "dlerror")]
    private static partial nint DlError();
}
