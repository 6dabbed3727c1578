using System.Collections.Frozen;
using System.Text;
using System.Text.Json;

namespace Platform.LiveKit.Rooms;

/// <summary>
/// A LiveKit server call failed: the server answered with a Twirp error (<c>{"code","msg","meta"}</c>), a
/// non-JSON error (a bad or expired token gets 401 with a plain-text body), or did not answer in time.
/// </summary>
public sealed class LiveKitException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LiveKitException(string method, string code, string message, int? httpStatus,
        IReadOnlyDictionary<string, string>? meta = null, Exception? inner = null)
        : base(message, inner)
    {
        Method = method;
        Code = code;
        HttpStatus = httpStatus;
        Meta = meta ?? FrozenDictionary<string, string>.Empty;
    }

    /// <summary>The RoomService method called, e.g. <c>CreateRoom</c>.</summary>
    public string Method { get; }

    /// <summary>
    /// The Twirp error code (<c>not_found</c>, <c>invalid_argument</c>, <c>unauthenticated</c>, ...). For a body
    /// that is not a Twirp error it is derived from the HTTP status; <c>deadline_exceeded</c> when the call timed
    /// out, <c>unavailable</c> when the server could not be reached.
    /// </summary>
    public string Code { get; }

    /// <summary>The HTTP status, or <c>null</c> when no answer came.</summary>
    public int? HttpStatus { get; }

    /// <summary>The Twirp error's <c>meta</c> map.</summary>
    public IReadOnlyDictionary<string, string> Meta { get; }

    /// <summary>Whether LiveKit said the room or participant does not exist.</summary>
    public bool IsNotFound => Code == TwirpCodes.NotFound;

    internal static LiveKitException FromResponse(string method, int status, string? mediaType, byte[] body)
    {
        // LiveKit's Twirp errors are JSON; its auth middleware answers 401 in plain text.
        if (body.Length > 0 && (mediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true || body[0] == (byte)'{'))
        {
            try
            {
                using var doc = JsonDocument.Parse(body);
                var root = doc.RootElement;
                if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String)
                {
                    var msg = root.TryGetProperty("msg", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
                    Dictionary<string, string>? meta = null;
                    if (root.TryGetProperty("meta", out var me) && me.ValueKind == JsonValueKind.Object)
                    {
                        meta = [];
                        foreach (var p in me.EnumerateObject()) meta[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
                    }
                    return new LiveKitException(method, code.GetString()!, msg, status, meta);
                }
            }
            catch (JsonException)
            {
                // Not a Twirp error after all: fall through to the text form.
            }
        }
        var text = Encoding.UTF8.GetString(body).Trim();
        return new LiveKitException(method, TwirpCodes.FromHttpStatus(status), text.Length > 0 ? text : $"HTTP {status}", status);
    }
}

/// <summary>Twirp error codes LiveKit uses.</summary>
public static class TwirpCodes
{
    /// <summary><c>not_found</c> (404).</summary>
    public const string NotFound = "not_found";
    /// <summary><c>invalid_argument</c> (400).</summary>
    public const string InvalidArgument = "invalid_argument";
    /// <summary><c>unauthenticated</c> (401).</summary>
    public const string Unauthenticated = "unauthenticated";
    /// <summary><c>permission_denied</c> (403).</summary>
    public const string PermissionDenied = "permission_denied";
    /// <summary><c>already_exists</c> (409).</summary>
    public const string AlreadyExists = "already_exists";
    /// <summary><c>resource_exhausted</c> (429).</summary>
    public const string ResourceExhausted = "resource_exhausted";
    /// <summary><c>internal</c> (500).</summary>
    public const string Internal = "internal";
    /// <summary><c>unavailable</c> (503), also used when the server could not be reached.</summary>
    public const string Unavailable = "unavailable";
    /// <summary><c>deadline_exceeded</c>: the call ran past its timeout.</summary>
    public const string DeadlineExceeded = "deadline_exceeded";
    /// <summary><c>unknown</c>.</summary>
    public const string Unknown = "unknown";

    /// <summary>The Twirp code for an HTTP status without a Twirp body.</summary>
    public static string FromHttpStatus(int status) => status switch
    {
        400 => InvalidArgument,
        401 => Unauthenticated,
        403 => PermissionDenied,
        404 => NotFound,
        408 => DeadlineExceeded,
        409 => AlreadyExists,
        429 => ResourceExhausted,
        500 => Internal,
        502 or 503 or 504 => Unavailable,
        _ => Unknown,
    };
}
