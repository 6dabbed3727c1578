namespace Platform.LiveKit.Ffi;

/// <summary>A failure reported by LiveKit's FFI library (a rejected request or an error in an async callback).</summary>
public sealed class FfiException(string message) : Exception(message);
