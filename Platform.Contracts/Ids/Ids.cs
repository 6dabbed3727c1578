using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Platform.Contracts;

/// <summary>A tenant (a company building on the platform). Its value is the grain key of <c>ITenantGrain</c>.</summary>
[GenerateSerializer, Immutable]
public readonly record struct TenantId([property: Id(0)] string Value)
{
    /// <summary>Makes a fresh tenant id (<c>tn_</c> + 16 hex digits).</summary>
    public static TenantId New() => new("tn_" + LocalIds.RandomHex(8));

    /// <summary>The grain key.</summary>
    public string ToGrainKey() => Value;

    /// <summary>True when <paramref name="value"/> looks like a tenant id (safe for use inside grain keys).</summary>
    public static bool IsValid([NotNullWhen(true)] string? value) => LocalIds.IsSafe(value, "tn_");

    /// <inheritdoc />
    public override string ToString() => Value;
}

/// <summary>Helpers shared by every tenant-scoped id.</summary>
public static class LocalIds
{
    /// <summary>Lower-case hex of <paramref name="bytes"/> cryptographically random bytes.</summary>
    public static string RandomHex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>True when the value starts with <paramref name="prefix"/> and holds only [a-z0-9_-], at most 64 characters.</summary>
    public static bool IsSafe([NotNullWhen(true)] string? value, string prefix)
    {
        if (value is null || value.Length <= prefix.Length || value.Length > 64 || !value.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in value)
        {
            if (!(c is >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-'))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Splits a <c>{tenant}/{local}</c> grain key.</summary>
    public static (TenantId Tenant, string Local) SplitKey(string grainKey)
    {
        var slash = grainKey.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == grainKey.Length - 1)
        {
            throw new FormatException($"'{grainKey}' is not a tenant-scoped grain key");
        }
        return (new TenantId(grainKey[..slash]), grainKey[(slash + 1)..]);
    }
}

/// <summary>A replica (face and voice) owned by a tenant. Stock replicas are seeded per tenant.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ReplicaId([property: Id(0)] TenantId Tenant, [property: Id(1)] string Local)
{
    /// <summary>The prefix of every replica's local id, as in CVI (<c>r…</c>).</summary>
    public const string Prefix = "r";
    /// <summary>A fresh id in <paramref name="tenant"/>.</summary>
    public static ReplicaId New(TenantId tenant) => new(tenant, Prefix + LocalIds.RandomHex(6));
    /// <summary>The grain key <c>{tenant}/{local}</c>.</summary>
    public string ToGrainKey() => $"{Tenant.Value}/{Local}";
    /// <summary>Parses a grain key.</summary>
    public static ReplicaId FromGrainKey(string key) { var (t, l) = LocalIds.SplitKey(key); return new(t, l); }
    /// <summary>True when <paramref name="local"/> is a well-formed local replica id.</summary>
    public static bool IsValidLocal([NotNullWhen(true)] string? local) => LocalIds.IsSafe(local, Prefix);
    /// <inheritdoc />
    public override string ToString() => Local;
}

/// <summary>A persona owned by a tenant.</summary>
[GenerateSerializer, Immutable]
public readonly record struct PersonaId([property: Id(0)] TenantId Tenant, [property: Id(1)] string Local)
{
    /// <summary>The prefix of every persona's local id, as in CVI (<c>p…</c>).</summary>
    public const string Prefix = "p";
    /// <summary>A fresh id in <paramref name="tenant"/>.</summary>
    public static PersonaId New(TenantId tenant) => new(tenant, Prefix + LocalIds.RandomHex(6));
    /// <summary>The grain key <c>{tenant}/{local}</c>.</summary>
    public string ToGrainKey() => $"{Tenant.Value}/{Local}";
    /// <summary>Parses a grain key.</summary>
    public static PersonaId FromGrainKey(string key) { var (t, l) = LocalIds.SplitKey(key); return new(t, l); }
    /// <summary>True when <paramref name="local"/> is a well-formed local persona id.</summary>
    public static bool IsValidLocal([NotNullWhen(true)] string? local) => LocalIds.IsSafe(local, Prefix);
    /// <inheritdoc />
    public override string ToString() => Local;
}

/// <summary>A conversation (a live call) owned by a tenant.</summary>
[GenerateSerializer, Immutable]
public readonly record struct ConversationId([property: Id(0)] TenantId Tenant, [property: Id(1)] string Local)
{
    /// <summary>The prefix of every conversation's local id, as in CVI (<c>c…</c>).</summary>
    public const string Prefix = "c";
    /// <summary>A fresh id in <paramref name="tenant"/>.</summary>
    public static ConversationId New(TenantId tenant) => new(tenant, Prefix + LocalIds.RandomHex(8));
    /// <summary>The grain key <c>{tenant}/{local}</c>.</summary>
    public string ToGrainKey() => $"{Tenant.Value}/{Local}";
    /// <summary>Parses a grain key.</summary>
    public static ConversationId FromGrainKey(string key) { var (t, l) = LocalIds.SplitKey(key); return new(t, l); }
    /// <summary>True when <paramref name="local"/> is a well-formed local conversation id.</summary>
    public static bool IsValidLocal([NotNullWhen(true)] string? local) => LocalIds.IsSafe(local, Prefix);
    /// <inheritdoc />
    public override string ToString() => Local;
}
