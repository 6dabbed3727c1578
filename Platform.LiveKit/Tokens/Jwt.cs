using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Platform.LiveKit.Tokens;

/// <summary>Compact HS256 JWS: the only form LiveKit uses. Written here to keep the claims exact.</summary>
internal static class Jwt
{
    private static readonly byte[] HeaderSegment = Encoding.ASCII.GetBytes(
        Base64Url.EncodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"u8));

    public static string Sign(ReadOnlySpan<byte> payloadJson, string secret)
    {
        var payloadSegment = Base64Url.EncodeToString(payloadJson);
        var signingInput = new byte[HeaderSegment.Length + 1 + Encoding.ASCII.GetByteCount(payloadSegment)];
        HeaderSegment.CopyTo(signingInput, 0);
        signingInput[HeaderSegment.Length] = (byte)'.';
        Encoding.ASCII.GetBytes(payloadSegment, signingInput.AsSpan(HeaderSegment.Length + 1));
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signingInput);
        return string.Concat(Encoding.ASCII.GetString(signingInput), ".", Base64Url.EncodeToString(mac));
    }

    /// <summary>The positions of a compact JWT's two dots (header.payload.signature, none of them empty but the payload).</summary>
    public static bool TrySplit(string token, out int first, out int last)
    {
        first = token.IndexOf('.');
        last = token.LastIndexOf('.');
        return first > 0 && last != first && last != token.Length - 1 && token.IndexOf('.', first + 1) == last;
    }

    /// <summary>Checks form, algorithm and signature; on success returns the payload bytes (not yet trusted for time).</summary>
    public static TokenRejection? TryVerifySignature(string token, string secret, out byte[] payload)
    {
        payload = [];
        if (!TrySplit(token, out var first, out var last))
            return TokenRejection.Malformed;
        try
        {
            var header = Base64Url.DecodeFromChars(token.AsSpan(0, first));
            using (var h = JsonDocument.Parse(header))
            {
                // Only HS256: never "none", never an algorithm chosen by the token.
                if (h.RootElement.ValueKind != JsonValueKind.Object ||
                    !h.RootElement.TryGetProperty("alg", out var alg) || alg.ValueKind != JsonValueKind.String ||
                    alg.GetString() != "HS256")
                    return TokenRejection.UnsupportedAlgorithm;
            }
            var signature = Base64Url.DecodeFromChars(token.AsSpan(last + 1));
            var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(token, 0, last));
            if (!CryptographicOperations.FixedTimeEquals(signature, expected)) return TokenRejection.BadSignature;
            payload = Base64Url.DecodeFromChars(token.AsSpan(first + 1, last - first - 1));
            return null;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return TokenRejection.Malformed;
        }
    }
}
