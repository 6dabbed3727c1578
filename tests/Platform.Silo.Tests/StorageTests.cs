using Platform.Silo.Tests.Grains;
using Platform.Testing;

namespace Platform.Silo.Tests;

public sealed class StorageTests
{
    [Fact]
    public async Task Grain_state_round_trips_through_postgres()
    {
        await using var cluster = await PlatformCluster.StartAsync();
        var grain = cluster.Client.GetGrain<ICounterGrain>("t1/c1");
        Assert.Equal(1, await grain.IncrementAsync());
        Assert.Equal(2, await grain.IncrementAsync());
        await grain.DeactivateAsync();
        await PlatformCluster.WaitUntilAsync(async () => (await grain.SnapshotAsync()).Value == 2, TimeSpan.FromSeconds(10), "the reactivated grain reads its state back");
        var snapshot = await grain.SnapshotAsync();
        Assert.True(snapshot.RecordExists);
        Assert.Equal("2", snapshot.ETag);
    }
}
