namespace Platform.Silo.Tests.Grains;

/// <summary>A test grain with persisted state under the platform's storage provider.</summary>
[Alias("Platform.Silo.Tests.ICounterGrain")]
public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> IncrementAsync();
    Task<int> GetAsync();
    Task<CounterSnapshot> SnapshotAsync();
    Task ClearAsync();
    Task ReloadAsync();
    Task DeactivateAsync();
}

[GenerateSerializer, Immutable]
public sealed record CounterSnapshot([property: Id(0)] int Value, [property: Id(1)] string? ETag, [property: Id(2)] bool RecordExists, [property: Id(3)] string Silo);

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)] public int Value { get; set; }
}

public sealed class CounterGrain(
    [PersistentState("counter", "platform")] IPersistentState<CounterState> state,
    ILocalSiloDetails silo) : Grain, ICounterGrain
{
    public async Task<int> IncrementAsync()
    {
        state.State.Value++;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public Task<int> GetAsync() => Task.FromResult(state.State.Value);

    public Task<CounterSnapshot> SnapshotAsync() =>
        Task.FromResult(new CounterSnapshot(state.State.Value, state.Etag, state.RecordExists, silo.SiloAddress.ToString()));

    public Task ClearAsync() => state.ClearStateAsync();

    public Task ReloadAsync() => state.ReadStateAsync();

    public Task DeactivateAsync()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
