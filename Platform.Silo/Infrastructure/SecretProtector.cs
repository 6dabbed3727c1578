using System.Security.Cryptography;
using System.Text;

namespace Platform.Silo.Infrastructure;

/// <summary>
/// Encrypts tenants' secrets (BYO LLM/TTS/STT keys, webhook secrets) for storage with AES-256-GCM. The stored form is
/// <c>enc:v1:</c> + base64(nonce ‖ ciphertext ‖ tag); <paramref name="purpose"/> is bound as associated data, so a value
/// cannot be moved to another field or tenant.
/// </summary>
public sealed class SecretProtector
{
    private const string Marker = "enc:v1:";
    private readonly byte[] _key;

    public SecretProtector(string? base64Key)
    {
        if (string.IsNullOrWhiteSpace(base64Key))
        {
            throw new InvalidOperationException("Platform:SecretsKey is not set: a 32-byte base64 key is needed to encrypt tenants' secrets at rest (the run command generates one in .data/).");
        }
        try
        {
            _key = Convert.FromBase64String(base64Key);
        }
        catch (FormatException e)
        {
            throw new InvalidOperationException("Platform:SecretsKey is not valid base64.", e);
        }
        if (_key.Length != 32)
        {
            throw new InvalidOperationException($"Platform:SecretsKey must decode to 32 bytes; it decodes to {_key.Length}.");
        }
    }

    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public string Protect(string plaintext, string purpose)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[12 + plain.Length + 16];
        var nonce = output.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, 16);
        aes.Encrypt(nonce, plain, output.AsSpan(12, plain.Length), output.AsSpan(12 + plain.Length), Encoding.UTF8.GetBytes(purpose));
        return Marker + Convert.ToBase64String(output);
    }

    public string Unprotect(string stored, string purpose)
    {
        if (!stored.StartsWith(Marker, StringComparison.Ordinal))
        {
            throw new CryptographicException("The value is not an encrypted secret.");
        }
        var data = Convert.FromBase64String(stored[Marker.Length..]);
        var plain = new byte[data.Length - 28];
        using var aes = new AesGcm(_key, 16);
        aes.Decrypt(data.AsSpan(0, 12), data.AsSpan(12, plain.Length), data.AsSpan(12 + plain.Length), plain, Encoding.UTF8.GetBytes(purpose));
        return Encoding.UTF8.GetString(plain);
    }
}
