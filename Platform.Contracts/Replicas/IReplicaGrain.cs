namespace Platform.Contracts;

/// <summary>
/// The parameters the renderer draws a replica's face from. Colours are <c>#rrggbb</c>; shapes and styles are names
/// the renderer knows.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaLook(
    [property: Id(0)] string FaceShape,
    [property: Id(1)] string SkinTone,
    [property: Id(2)] string HairColor,
    [property: Id(3)] string HairStyle,
    [property: Id(4)] string EyeColor,
    [property: Id(5)] string Background,
    [property: Id(6)] string Voice);

/// <summary>A stock replica every tenant gets.</summary>
[GenerateSerializer, Immutable]
public sealed record StockReplica([property: Id(0)] string Slug, [property: Id(1)] string Name, [property: Id(2)] ReplicaLook Look)
{
    /// <summary>The stock catalogue: three distinct looks.</summary>
    public static IReadOnlyList<StockReplica> All { get; } =
    [
        new("anna", "Anna", new ReplicaLook("oval", "#e8b89a", "#3b2314", "long", "#4a6b8a", "#dfe6ee", "slt")),
        new("marcus", "Marcus", new ReplicaLook("square", "#8d5a3b", "#111111", "short", "#3d2a1a", "#e9e2d6", "slt")),
        new("lin", "Lin", new ReplicaLook("heart", "#f1d2b6", "#1c1c24", "bob", "#2b1d14", "#d9ece4", "slt")),
    ];

    /// <summary>The stable local id of this stock replica in every tenant.</summary>
    public string LocalId => ReplicaId.Prefix + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("stock:" + Slug)))[..11];
}

/// <summary>A replica as the API shows it.</summary>
[GenerateSerializer, Immutable]
public sealed record ReplicaInfo(
    [property: Id(0)] ReplicaId Id,
    [property: Id(1)] string Name,
    [property: Id(2)] string Type,
    [property: Id(3)] string Status,
    [property: Id(4)] int TrainingProgress,
    [property: Id(5)] string? Message,
    [property: Id(6)] ReplicaLook? Look,
    [property: Id(7)] string DocumentJson,
    [property: Id(8)] DateTimeOffset CreatedAt,
    [property: Id(9)] DateTimeOffset UpdatedAt);

/// <summary>A replica: stock (<c>system</c>) or trained from a video (<c>user</c>). Key: <see cref="ReplicaId"/>.</summary>
[Alias("Platform.IReplicaGrain")]
public interface IReplicaGrain : IGrainWithStringKey
{
    /// <summary>Creates a stock replica (idempotent).</summary>
    Task<ReplicaInfo> CreateStockAsync(StockReplica stock);

    /// <summary>Creates a user replica from a validated <c>POST /v2/replicas</c> body.</summary>
    Task<Result<ReplicaInfo>> CreateAsync(string documentJson);

    /// <summary>The replica, or null.</summary>
    Task<ReplicaInfo?> GetAsync();

    /// <summary>Renames it.</summary>
    Task<Result<ReplicaInfo>> RenameAsync(string name);

    /// <summary>Deletes it; false when it did not exist.</summary>
    Task<bool> DeleteAsync();
}
