using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Contracts.Json;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Replicas;

[GenerateSerializer]
public sealed class ReplicaState
{
    [Id(0)] public string? DocumentJson { get; set; }
    [Id(1)] public string Name { get; set; } = "";
    [Id(2)] public string Type { get; set; } = "user";
    [Id(3)] public string Status { get; set; } = "started";
    [Id(4)] public int TrainingProgress { get; set; }
    [Id(5)] public string? Message { get; set; }
    [Id(6)] public ReplicaLook? Look { get; set; }
    [Id(7)] public DateTimeOffset CreatedAt { get; set; }
    [Id(8)] public DateTimeOffset UpdatedAt { get; set; }
}

internal sealed class ReplicaGrain(
    [PersistentState("replica", PostgresSchema.StorageName)] IPersistentState<ReplicaState> state,
    AppDatabase database,
    TimeProvider time) : Grain, IReplicaGrain
{
    /// <summary>Training from video is not built yet; a custom replica stays "started" and says so.</summary>
    public const string TrainingNotAvailable =
        "Training replicas from video is not available yet on this platform: the replica stays 'started' and cannot join conversations until training exists. Use a stock replica.";

    private ReplicaId Id => ReplicaId.FromGrainKey(this.GetPrimaryKeyString());
    private bool Exists => state.RecordExists && state.State.DocumentJson is not null;

    public async Task<ReplicaInfo> CreateStockAsync(StockReplica stock)
    {
        if (!Exists)
        {
            var now = time.GetUtcNow();
            state.State = new ReplicaState
            {
                DocumentJson = new JsonObject { ["replica_name"] = stock.Name, ["model_name"] = "platform-face-1" }.ToJsonString(),
                Name = stock.Name,
                Type = "system",
                Status = "completed",
                TrainingProgress = 100,
                Look = stock.Look,
                CreatedAt = now,
                UpdatedAt = now,
            };
            await SaveAsync();
        }
        return Info();
    }

    public async Task<Result<ReplicaInfo>> CreateAsync(string documentJson)
    {
        if (Exists)
        {
            return Problem.Field(ProblemKind.Conflict, "replica_id", $"Replica '{Id}' already exists.");
        }
        var doc = JsonNode.Parse(documentJson);
        var errors = ShapeValidation.Validate(CviSchemas.Replica, doc);
        if (errors.Count > 0)
        {
            return Problem.Invalid(errors);
        }
        var obj = (JsonObject)doc!;
        var now = time.GetUtcNow();
        state.State = new ReplicaState
        {
            DocumentJson = obj.ToJsonString(),
            Name = Json.Str(obj, "replica_name") ?? Id.Local,
            Type = "user",
            Status = "started",
            TrainingProgress = 0,
            Message = TrainingNotAvailable,
            CreatedAt = now,
            UpdatedAt = now,
        };
        await SaveAsync();
        return Result<ReplicaInfo>.Ok(Info());
    }

    public Task<ReplicaInfo?> GetAsync() => Task.FromResult(Exists ? Info() : null);

    public async Task<Result<ReplicaInfo>> RenameAsync(string name)
    {
        if (!Exists)
        {
            return Problem.NotFound("replica", Id.Local);
        }
        if (string.IsNullOrWhiteSpace(name) || name.Length > 200)
        {
            return Problem.Field(ProblemKind.Invalid, "replica_name", "'replica_name' must be 1 to 200 characters.");
        }
        state.State.Name = name;
        state.State.UpdatedAt = time.GetUtcNow();
        var doc = Json.ParseObject(state.State.DocumentJson!);
        doc["replica_name"] = name;
        state.State.DocumentJson = doc.ToJsonString();
        await SaveAsync();
        return Result<ReplicaInfo>.Ok(Info());
    }

    public async Task<bool> DeleteAsync()
    {
        if (!Exists)
        {
            return false;
        }
        await database.DeleteIndexAsync(Id.Tenant, ResourceKind.Replica, Id.Local);
        await state.ClearStateAsync();
        return true;
    }

    private async Task SaveAsync()
    {
        await state.WriteStateAsync();
        await database.UpsertIndexAsync(Id.Tenant, ResourceKind.Replica, Id.Local, state.State.Status, state.State.CreatedAt, null,
            CviViews.Replica(Info()).ToJsonString());
    }

    private ReplicaInfo Info() => new(Id, state.State.Name, state.State.Type, state.State.Status, state.State.TrainingProgress,
        state.State.Message, state.State.Look, state.State.DocumentJson!, state.State.CreatedAt, state.State.UpdatedAt);
}
