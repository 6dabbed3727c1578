using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Contracts.Json;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Personas;

[GenerateSerializer]
public sealed class PersonaState
{
    /// <summary>The CVI document without its secrets.</summary>
    [Id(0)] public string? DocumentJson { get; set; }
    /// <summary>Write-only members, encrypted: dotted path → ciphertext.</summary>
    [Id(1)] public Dictionary<string, string> Secrets { get; set; } = [];
    [Id(2)] public List<string> Warnings { get; set; } = [];
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class PersonaGrain(
    [PersistentState("persona", PostgresSchema.StorageName)] IPersistentState<PersonaState> state,
    SecretProtector secrets,
    AppDatabase database,
    TimeProvider time) : Grain, IPersonaGrain
{
    // Stands in for a stored secret while a patch is applied, so 'remove' and 'replace' on it work without reading it.
    private const string Placeholder = "\u0000stored-secret:";

    private PersonaId Id => PersonaId.FromGrainKey(this.GetPrimaryKeyString());
    private bool Exists => state.RecordExists && state.State.DocumentJson is not null;

    public async Task<Result<PersonaInfo>> CreateAsync(string documentJson)
    {
        if (Exists)
        {
            return Problem.Field(ProblemKind.Conflict, "persona_id", $"Persona '{Id}' already exists.");
        }
        var now = time.GetUtcNow();
        var outcome = await AcceptAsync(JsonNode.Parse(documentJson), []);
        if (!outcome.IsOk)
        {
            return outcome.Problem!;
        }
        state.State.CreatedAt = now;
        return await CommitAsync(outcome.Value!, now);
    }

    public Task<PersonaInfo?> GetAsync() => Task.FromResult(Exists ? Info() : null);

    public async Task<Result<PersonaInfo>> PatchAsync(string patchJson)
    {
        if (!Exists)
        {
            return Problem.NotFound("persona", Id.Local);
        }
        var working = Json.ParseObject(state.State.DocumentJson!);
        foreach (var path in state.State.Secrets.Keys)
        {
            SetAt(working, path, Placeholder + path);
        }
        var patched = JsonPatch.Apply(working, JsonNode.Parse(patchJson), IsWriteOnly);
        if (patched.Error is { } error)
        {
            var kind = error.Message.Contains("the test failed", StringComparison.Ordinal) ? ProblemKind.Conflict : ProblemKind.Unprocessable;
            return new Problem(kind, error.Message, [error]);
        }
        var outcome = await AcceptAsync(patched.Document, state.State.Secrets);
        return outcome.IsOk ? await CommitAsync(outcome.Value!, time.GetUtcNow()) : outcome.Problem!;
    }

    public async Task<bool> DeleteAsync()
    {
        if (!Exists)
        {
            return false;
        }
        await database.DeleteIndexAsync(Id.Tenant, ResourceKind.Persona, Id.Local);
        await state.ClearStateAsync();
        return true;
    }

    public Task<string?> GetRuntimeDocumentAsync()
    {
        if (!Exists)
        {
            return Task.FromResult<string?>(null);
        }
        var doc = Json.ParseObject(state.State.DocumentJson!);
        foreach (var (path, stored) in state.State.Secrets)
        {
            SetAt(doc, path, secrets.Unprotect(stored, $"{this.GetPrimaryKeyString()}/{path}"));
        }
        return Task.FromResult<string?>(doc.ToJsonString());
    }

    private sealed record Accepted(JsonObject Public, Dictionary<string, string> Secrets, List<string> Warnings);

    /// <summary>Validates a full document (shape, rules, references) and splits its secrets out, encrypted.</summary>
    private async Task<Result<Accepted>> AcceptAsync(JsonNode? doc, Dictionary<string, string> stored)
    {
        var errors = ShapeValidation.Validate(CviSchemas.Persona, doc);
        if (errors.Count > 0)
        {
            return Problem.Invalid(errors);
        }
        var obj = (JsonObject)doc!;
        var secretValues = new Dictionary<string, string>();
        foreach (var path in PersonaRules.SecretPaths)
        {
            if (Json.At(obj, path) is not JsonValue value)
            {
                continue;
            }
            var text = value.GetValue<string>();
            if (text == Placeholder + path)
            {
                secretValues[path] = stored[path];
            }
            else if (text.StartsWith(Placeholder, StringComparison.Ordinal))
            {
                return Problem.Field(ProblemKind.Unprocessable, path, $"'{path}' is write-only: a stored secret cannot be copied or moved.");
            }
            else
            {
                secretValues[path] = secrets.Protect(text, $"{this.GetPrimaryKeyString()}/{path}");
            }
            RemoveAt(obj, path);
        }
        var rules = PersonaRules.Check(obj);
        if (rules.Count > 0)
        {
            return new Problem(ProblemKind.Unprocessable, rules.Count == 1 ? rules[0].Message : "The persona breaks several rules.", rules);
        }
        if (Json.Str(obj, "default_replica_id") is { } replica)
        {
            var exists = ReplicaId.IsValidLocal(replica)
                && await GrainFactory.GetGrain<IReplicaGrain>(new ReplicaId(Id.Tenant, replica).ToGrainKey()).GetAsync() is not null;
            if (!exists)
            {
                return Problem.Field(ProblemKind.Unprocessable, "default_replica_id", $"'default_replica_id': no replica with id '{replica}' exists.");
            }
        }
        return Result<Accepted>.Ok(new Accepted(obj, secretValues, PersonaRules.Warnings(obj)));
    }

    private async Task<Result<PersonaInfo>> CommitAsync(Accepted accepted, DateTimeOffset now)
    {
        state.State.DocumentJson = accepted.Public.ToJsonString();
        state.State.Secrets = accepted.Secrets;
        state.State.Warnings = accepted.Warnings;
        state.State.UpdatedAt = now;
        await state.WriteStateAsync();
        var info = Info();
        await database.UpsertIndexAsync(Id.Tenant, ResourceKind.Persona, Id.Local, null, info.CreatedAt, null, CviViews.Persona(info).ToJsonString());
        return Result<PersonaInfo>.Ok(info);
    }

    private PersonaInfo Info() => new(Id, state.State.DocumentJson!, state.State.Warnings, state.State.CreatedAt, state.State.UpdatedAt);

    /// <summary>A pointer that is, or contains, a write-only member.</summary>
    private static bool IsWriteOnly(string pointer) =>
        JsonPatch.Pointer.TryParse(pointer, out var tokens) && PersonaRules.SecretPaths.Any(p =>
        {
            var parts = p.Split('.');
            return tokens.Length <= parts.Length && tokens.AsSpan().SequenceEqual(parts.AsSpan(0, tokens.Length));
        });

    private static void SetAt(JsonObject root, string dotted, string value)
    {
        var parts = dotted.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            if (node[part] is not JsonObject child)
            {
                child = [];
                node[part] = child;
            }
            node = child;
        }
        node[parts[^1]] = value;
    }

    private static void RemoveAt(JsonObject root, string dotted)
    {
        var parts = dotted.Split('.');
        JsonObject? node = root;
        foreach (var part in parts[..^1])
        {
            node = node?[part] as JsonObject;
        }
        node?.Remove(parts[^1]);
    }
}
