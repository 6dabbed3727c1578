using Npgsql;

namespace Platform.Silo.Infrastructure;

/// <summary>Names shared by the schema, the Orleans providers and the application tables.</summary>
public static class PostgresSchema
{
    /// <summary>ADO.NET invariant the Orleans providers use for Npgsql.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>Name of the grain-storage provider every grain's <c>[PersistentState]</c> points at.</summary>
    public const string StorageName = "platform";

    /// <summary>The query keys the Orleans 10.4.2 AdoNet providers read from <c>OrleansQuery</c> at start.</summary>
    public static readonly IReadOnlyList<string> RequiredQueryKeys =
    [
        "ReadFromStorageKey", "WriteToStorageKey", "ClearStorageKey", "DeleteStorageKey",
        "MembershipReadAllKey", "MembershipReadRowKey", "InsertMembershipKey", "InsertMembershipVersionKey",
        "UpdateMembershipKey", "UpdateIAmAlivetimeKey", "DeleteMembershipTableEntriesKey", "GatewaysQueryKey",
        "CleanupDefunctSiloEntriesKey",
        "ReadReminderRowsKey", "ReadReminderRowKey", "ReadRangeRows1Key", "ReadRangeRows2Key", "UpsertReminderRowKey",
        "DeleteReminderRowKey", "DeleteReminderRowsKey",
    ];

    /// <summary>
    /// Fails with a message naming what is missing when the database lacks a table or an Orleans query row the
    /// platform needs. Called at start after the migrations, so a hand-edited or half-restored database is caught
    /// before the providers fail with "Sequence contains no elements".
    /// </summary>
    public static async Task VerifyAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT querykey FROM orleansquery");
        var present = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                present.Add(reader.GetString(0));
            }
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            throw new InvalidOperationException("The database has no OrleansQuery table: the Orleans schema migration has not been applied.", e);
        }
        var missing = RequiredQueryKeys.Where(k => !present.Contains(k)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"The OrleansQuery table lacks the query rows {string.Join(", ", missing)}: the Orleans providers cannot start.");
        }
    }
}
