using Platform.Testing;

namespace Platform.Silo.Tests;

/// <summary>Reminders through the AdoNet reminder table on our schema: every reminder query row, including both ring
/// range queries (ReadRangeRows1 for ranges that do not wrap in signed order, ReadRangeRows2 for those that do).</summary>
public sealed class ReminderTableTests
{
    private static readonly DateTime T0 = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static GrainId Grain(int i) => GrainId.Create("reminded", $"t1/g{i}");

    /// <summary>The ring semantics Orleans expects: (begin, end], wrapping past uint.MaxValue; begin == end is the
    /// whole ring.</summary>
    private static bool InRange(uint hash, uint begin, uint end) =>
        begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    [Fact]
    public async Task Rows_round_trip_with_versions_and_are_scoped_to_the_service()
    {
        await using var database = await Providers.MigratedDatabaseAsync();
        var table = await Providers.RemindersAsync(database, "svc-a");
        var otherService = await Providers.RemindersAsync(database, "svc-b");
        var g = Grain(1);

        var etag1 = await table.UpsertRow(new ReminderEntry { GrainId = g, ReminderName = "end", StartAt = T0, Period = TimeSpan.FromMinutes(1) });
        var etag2 = await table.UpsertRow(new ReminderEntry { GrainId = g, ReminderName = "end", StartAt = T0.AddHours(1), Period = TimeSpan.FromDays(30) });
        Assert.NotEqual(etag1, etag2);
        await table.UpsertRow(new ReminderEntry { GrainId = g, ReminderName = "idle", StartAt = T0, Period = TimeSpan.FromMinutes(2) });
        await table.UpsertRow(new ReminderEntry { GrainId = Grain(2), ReminderName = "end", StartAt = T0, Period = TimeSpan.FromMinutes(2) });
        await otherService.UpsertRow(new ReminderEntry { GrainId = g, ReminderName = "end", StartAt = T0, Period = TimeSpan.FromMinutes(3) });

        var row = await table.ReadRow(g, "end");
        Assert.NotNull(row);
        // A period beyond int.MaxValue milliseconds is kept exactly.
        Assert.Equal((g, "end", T0.AddHours(1), TimeSpan.FromDays(30), etag2), (row.GrainId, row.ReminderName, row.StartAt, row.Period, row.ETag));
        Assert.Null(await table.ReadRow(g, "nope"));
        Assert.Equal(["end", "idle"], (await table.ReadRows(g)).Reminders.Select(r => r.ReminderName).Order());

        Assert.False(await table.RemoveRow(g, "end", etag1!));
        Assert.True(await table.RemoveRow(g, "end", etag2!));
        Assert.False(await table.RemoveRow(g, "end", etag2!));
        Assert.Null(await table.ReadRow(g, "end"));
        Assert.NotNull(await otherService.ReadRow(g, "end"));

        await table.TestOnlyClearTable();
        Assert.Empty((await table.ReadRows(0, 0)).Reminders);
        Assert.Single((await otherService.ReadRows(0, 0)).Reminders);
    }

    [Fact]
    public async Task Range_reads_follow_the_ring_including_wrap_around()
    {
        await using var database = await Providers.MigratedDatabaseAsync();
        var table = await Providers.RemindersAsync(database, "svc");
        var grains = Enumerable.Range(0, 200).Select(Grain).ToList();
        foreach (var g in grains)
        {
            await table.UpsertRow(new ReminderEntry { GrainId = g, ReminderName = "r", StartAt = T0, Period = TimeSpan.FromMinutes(1) });
        }
        var hashes = grains.ToDictionary(g => g, g => g.GetUniformHashCode());
        var sorted = hashes.Values.Order().ToList();

        var random = new Random(1234);
        var ranges = new List<(uint Begin, uint End)>
        {
            (0, 0),                                   // the whole ring (one silo)
            (sorted[10], sorted[60]),                 // plain range in the lower numbers
            (0x7000_0000, 0x9000_0000),               // crosses the signed boundary: signed begin > end
            (0xF000_0000, 0x1000_0000),               // wraps past uint.MaxValue
            (sorted[150], sorted[20]),                // wraps, bounds on rows (begin exclusive, end inclusive)
            (sorted[20], sorted[20] - 1),             // everything but one hash
            (uint.MaxValue, 0),                       // just hash 0
        };
        ranges.AddRange(Enumerable.Range(0, 30).Select(_ => ((uint)random.NextInt64(0, 1L << 32), (uint)random.NextInt64(0, 1L << 32))));

        var sawRows1 = false;
        var sawRows2 = false;
        foreach (var (begin, end) in ranges)
        {
            var expected = grains.Where(g => InRange(hashes[g], begin, end)).Select(g => g.ToString()).Order().ToList();
            var actual = (await table.ReadRows(begin, end)).Reminders.Select(r => r.GrainId.ToString()).Order().ToList();
            Assert.True(expected.SequenceEqual(actual), $"range ({begin:X8}, {end:X8}]: expected {expected.Count} rows, got {actual.Count}");
            // The provider picks ReadRangeRows1Key when (int)begin < (int)end, else ReadRangeRows2Key.
            if ((int)begin < (int)end && expected.Count > 0) sawRows1 = true;
            if ((int)begin >= (int)end && expected.Count > 0) sawRows2 = true;
        }
        Assert.True(sawRows1 && sawRows2, "both range queries were exercised with rows");
    }
}
