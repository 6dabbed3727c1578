namespace Platform.Contracts;

/// <summary>A persona as the API shows it: the stored CVI document without its write-only secrets.</summary>
[GenerateSerializer, Immutable]
public sealed record PersonaInfo(
    [property: Id(0)] PersonaId Id,
    [property: Id(1)] string DocumentJson,
    [property: Id(2)] IReadOnlyList<string> Warnings,
    [property: Id(3)] DateTimeOffset CreatedAt,
    [property: Id(4)] DateTimeOffset UpdatedAt);

/// <summary>A persona: prompt, context, layers (LLM, TTS, STT, perception, turn-taking). Key: <see cref="PersonaId"/>.</summary>
[Alias("Platform.IPersonaGrain")]
public interface IPersonaGrain : IGrainWithStringKey
{
    /// <summary>Creates it from a <c>POST /v2/personas</c> body (validated again here).</summary>
    Task<Result<PersonaInfo>> CreateAsync(string documentJson);

    /// <summary>The persona, or null.</summary>
    Task<PersonaInfo?> GetAsync();

    /// <summary>Applies a JSON Patch (RFC 6902) atomically: all operations and the re-validation succeed, or nothing changes.</summary>
    Task<Result<PersonaInfo>> PatchAsync(string patchJson);

    /// <summary>Deletes it; false when it did not exist.</summary>
    Task<bool> DeleteAsync();

    /// <summary>The document a render worker runs, write-only members (the LLM key...) decrypted; null when it does
    /// not exist. Cluster-internal: never exposed by the Api, never logged.</summary>
    Task<string?> GetRuntimeDocumentAsync();
}
