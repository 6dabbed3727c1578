using System.Security.Cryptography;
using System.Text;

namespace Platform.Silo.Webhooks;

/// <summary>
/// How callbacks are signed: <c>webhook-signature: v1=hex(HMAC-SHA256(secret, "{webhook-timestamp}.{body}"))</c>, with
/// <c>webhook-timestamp</c> in Unix seconds and <c>webhook-id</c> unique per delivery (retries keep it).
/// A receiver recomputes the HMAC, compares in constant time and rejects old timestamps.
/// </summary>
public static class WebhookSignature
{
    public const string IdHeader = "webhook-id";
    public const string TimestampHeader = "webhook-timestamp";
    public const string SignatureHeader = "webhook-signature";

    public static string Sign(string secret, long unixSeconds, string body)
    {
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{unixSeconds}.{body}"));
        return "v1=" + Convert.ToHexStringLower(mac);
    }

    public static bool Verify(string secret, long unixSeconds, string body, string signature) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, unixSeconds, body)), Encoding.ASCII.GetBytes(signature));
}
