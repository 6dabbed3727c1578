using Npgsql;
using NpgsqlTypes;
using Platform.Contracts;

namespace Platform.Silo.Infrastructure;

/// <summary>
/// The application tables (see infra/sql/0002_application.sql). Every method takes the tenant id and every statement
/// filters on it, so no call can reach another tenant's rows.
/// </summary>
public sealed class AppDatabase(NpgsqlDataSource db)
{
    public NpgsqlDataSource DataSource => db;

    public async Task UpsertTenantAsync(TenantId tenant, string name, DateTimeOffset createdAt)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO tenant_directory (tenant_id, name, created_at) VALUES ($1, $2, $3)
            ON CONFLICT (tenant_id) DO UPDATE SET name = EXCLUDED.name
            """);
        cmd.Parameters.AddWithValue(tenant.Value);
        cmd.Parameters.AddWithValue(name);
        cmd.Parameters.AddWithValue(createdAt);
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<TenantId>> ListTenantsAsync(int offset, int limit)
    {
        await using var cmd = db.CreateCommand("SELECT tenant_id FROM tenant_directory ORDER BY created_at DESC, tenant_id LIMIT $1 OFFSET $2");
        cmd.Parameters.AddWithValue(limit);
        cmd.Parameters.AddWithValue(offset);
        var list = new List<TenantId>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            list.Add(new TenantId(reader.GetString(0)));
        }
        return list;
    }

    public async Task UpsertIndexAsync(TenantId tenant, ResourceKind kind, string localId, string? status, DateTimeOffset createdAt, DateTimeOffset? nextDeadline, string summaryJson)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO resource_index (tenant_id, kind, local_id, status, created_at, next_deadline, summary)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (tenant_id, kind, local_id) DO UPDATE
              SET status = EXCLUDED.status, next_deadline = EXCLUDED.next_deadline, summary = EXCLUDED.summary
            """);
        cmd.Parameters.AddWithValue(tenant.Value);
        cmd.Parameters.AddWithValue((short)kind);
        cmd.Parameters.AddWithValue(localId);
        cmd.Parameters.AddWithValue((object?)status ?? DBNull.Value);
        cmd.Parameters.AddWithValue(createdAt);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)nextDeadline ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new NpgsqlParameter { Value = summaryJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
        await cmd.ExecuteNonQueryAsync();
    }

    public async Task DeleteIndexAsync(TenantId tenant, ResourceKind kind, string localId)
    {
        await using var cmd = db.CreateCommand("DELETE FROM resource_index WHERE tenant_id = $1 AND kind = $2 AND local_id = $3");
        cmd.Parameters.AddWithValue(tenant.Value);
        cmd.Parameters.AddWithValue((short)kind);
        cmd.Parameters.AddWithValue(localId);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>A page of list views, newest first; <paramref name="filter"/> compares one member of the view.</summary>
    public async Task<Page<string>> ListAsync(TenantId tenant, ResourceKind kind, int page, int limit, (string Field, string Value)? filter)
    {
        // 'status' has its own indexed column; other members are compared inside the stored view.
        var where = filter switch
        {
            null => "",
            { Field: "status" } => " AND status = $5",
            _ => " AND summary->>$6 = $5",
        };
        await using var cmd = db.CreateCommand($"""
            SELECT summary::text, count(*) OVER () FROM resource_index
            WHERE tenant_id = $1 AND kind = $2{where}
            ORDER BY created_at DESC, local_id DESC
            LIMIT $3 OFFSET $4
            """);
        cmd.Parameters.AddWithValue(tenant.Value);
        cmd.Parameters.AddWithValue((short)kind);
        cmd.Parameters.AddWithValue(limit);
        cmd.Parameters.AddWithValue((long)(page - 1) * limit);
        if (filter is { } f)
        {
            cmd.Parameters.AddWithValue(f.Value);
            if (f.Field != "status")
            {
                cmd.Parameters.AddWithValue(f.Field);
            }
        }
        var items = new List<string>();
        long total = 0;
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                items.Add(reader.GetString(0));
                total = reader.GetInt64(1);
            }
        }
        if (items.Count == 0 && page > 1)
        {
            // Past the last page the window count has no row to ride on: count directly.
            await using var count = db.CreateCommand($"SELECT count(*) FROM resource_index WHERE tenant_id = $1 AND kind = $2{where.Replace("$5", "$3", StringComparison.Ordinal).Replace("$6", "$4", StringComparison.Ordinal)}");
            count.Parameters.AddWithValue(tenant.Value);
            count.Parameters.AddWithValue((short)kind);
            if (filter is { } f2)
            {
                count.Parameters.AddWithValue(f2.Value);
                if (f2.Field != "status")
                {
                    count.Parameters.AddWithValue(f2.Field);
                }
            }
            total = (long)(await count.ExecuteScalarAsync())!;
        }
        return new Page<string>(items, total);
    }

    /// <summary>Local ids of the tenant's live conversations (the tenant grain's slot count is rebuilt from this).</summary>
    public async Task<IReadOnlyList<string>> ActiveConversationsAsync(TenantId tenant)
    {
        await using var cmd = db.CreateCommand("SELECT local_id FROM resource_index WHERE tenant_id = $1 AND kind = $2 AND status = $3");
        cmd.Parameters.AddWithValue(tenant.Value);
        cmd.Parameters.AddWithValue((short)ResourceKind.Conversation);
        cmd.Parameters.AddWithValue(ConversationStatus.Active);
        var list = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            list.Add(reader.GetString(0));
        }
        return list;
    }

    /// <summary>Live conversations whose next limit has passed at <paramref name="now"/> (any tenant: the sweeper's query).</summary>
    public async Task<IReadOnlyList<ConversationId>> OverdueConversationsAsync(DateTimeOffset now, int limit)
    {
        await using var cmd = db.CreateCommand("""
            SELECT tenant_id, local_id FROM resource_index
            WHERE next_deadline IS NOT NULL AND next_deadline <= $1
            ORDER BY next_deadline LIMIT $2
            """);
        cmd.Parameters.AddWithValue(now);
        cmd.Parameters.AddWithValue(limit);
        var list = new List<ConversationId>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            list.Add(new ConversationId(new TenantId(reader.GetString(0)), reader.GetString(1)));
        }
        return list;
    }

    public async Task AppendEventsAsync(ConversationId conversation, IReadOnlyList<ConversationEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }
        var batch = db.CreateBatch();
        await using var _ = batch;
        foreach (var e in events)
        {
            var cmd = new NpgsqlBatchCommand("""
                INSERT INTO conversation_events (tenant_id, conversation_id, seq, event_type, message_type, ts, turn_idx, inference_id, properties)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING
                """);
            cmd.Parameters.AddWithValue(conversation.Tenant.Value);
            cmd.Parameters.AddWithValue(conversation.Local);
            cmd.Parameters.AddWithValue(e.Seq);
            cmd.Parameters.AddWithValue(e.EventType);
            cmd.Parameters.AddWithValue(e.MessageType);
            cmd.Parameters.AddWithValue(e.Timestamp);
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)e.TurnIdx ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
            cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)e.InferenceId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = e.PropertiesJson, NpgsqlDbType = NpgsqlDbType.Jsonb });
            batch.BatchCommands.Add(cmd);
        }
        await batch.ExecuteNonQueryAsync();
    }

    public async Task<IReadOnlyList<ConversationEvent>> ReadEventsAsync(ConversationId conversation)
    {
        await using var cmd = db.CreateCommand("""
            SELECT seq, event_type, message_type, ts, properties::text, turn_idx, inference_id FROM conversation_events
            WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY seq
            """);
        cmd.Parameters.AddWithValue(conversation.Tenant.Value);
        cmd.Parameters.AddWithValue(conversation.Local);
        var list = new List<ConversationEvent>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            list.Add(new ConversationEvent(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }
        return list;
    }

    public async Task DeleteEventsAsync(ConversationId conversation)
    {
        await using var cmd = db.CreateCommand("DELETE FROM conversation_events WHERE tenant_id = $1 AND conversation_id = $2");
        cmd.Parameters.AddWithValue(conversation.Tenant.Value);
        cmd.Parameters.AddWithValue(conversation.Local);
        await cmd.ExecuteNonQueryAsync();
    }

    public sealed record IdempotencyRecord(string RequestHash, string ConversationLocalId, DateTimeOffset CreatedAt);

    public async Task<IdempotencyRecord?> ReadIdempotencyAsync(TenantId tenant, string keyHash)
    {
        await using var cmd = db.CreateCommand("SELECT request_hash, conversation_id, created_at FROM idempotency_records WHERE tenant_id = $1 AND key_hash = $2");
        cmd.Parameters.AddWithValue(tenant.Value);
        cmd.Parameters.AddWithValue(keyHash);
        await using var reader = await cmd.ExecuteReaderAsync();
        return await reader.ReadAsync() ? new IdempotencyRecord(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2)) : null;
    }

    public async Task WriteIdempotencyAsync(TenantId tenant, string keyHash, IdempotencyRecord record)
    {
        await using var cmd = db.CreateCommand("""
            INSERT INTO idempotency_records (tenant_id, key_hash, request_hash, conversation_id, created_at) VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (tenant_id, key_hash) DO UPDATE
              SET request_hash = EXCLUDED.request_hash, conversation_id = EXCLUDED.conversation_id, created_at = EXCLUDED.created_at
            """);
        cmd.Parameters.AddWithValue(tenant.Value);
        cmd.Parameters.AddWithValue(keyHash);
        cmd.Parameters.AddWithValue(record.RequestHash);
        cmd.Parameters.AddWithValue(record.ConversationLocalId);
        cmd.Parameters.AddWithValue(record.CreatedAt);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Drops idempotency records older than <paramref name="cutoff"/> (all tenants; housekeeping).</summary>
    public async Task<int> PruneIdempotencyAsync(DateTimeOffset cutoff)
    {
        await using var cmd = db.CreateCommand("DELETE FROM idempotency_records WHERE created_at < $1");
        cmd.Parameters.AddWithValue(cutoff);
        return await cmd.ExecuteNonQueryAsync();
    }
}
