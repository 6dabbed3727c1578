using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;
using Platform.Contracts;
using Platform.Contracts.Json;

namespace Platform.Silo.Webhooks;

/// <summary>The <c>webhook_deliveries</c> table: conversation grains append, the dispatcher claims and records attempts.</summary>
public sealed class WebhookOutbox(NpgsqlDataSource db)
{
    /// <summary>The CVI callback events.</summary>
    public static readonly IReadOnlySet<string> CallbackEvents = new HashSet<string>(StringComparer.Ordinal)
    {
        "system.replica_joined", "system.shutdown", "application.transcription_ready",
    };

    public sealed record Delivery(long Id, TenantId Tenant, string ConversationId, string EventType, string Url, string Body, int Attempts);

    /// <summary>The CVI callback envelope.</summary>
    public static string Envelope(ConversationId conversation, ConversationEvent e)
    {
        var view = CviViews.Event(conversation, e);
        return new JsonObject
        {
            ["conversation_id"] = conversation.Local,
            ["event_type"] = e.EventType,
            ["message_type"] = e.MessageType,
            ["timestamp"] = view["timestamp"]!.DeepClone(),
            ["seq"] = e.Seq,
            ["properties"] = view["properties"]?.DeepClone(),
        }.ToJsonString();
    }

    /// <summary>Queues the callback events among <paramref name="events"/> (idempotent per event seq).</summary>
    public async Task EnqueueAsync(ConversationId conversation, string url, IEnumerable<ConversationEvent> events, DateTimeOffset now)
    {
        var batch = db.CreateBatch();
        await using var _ = batch;
        foreach (var e in events.Where(e => CallbackEvents.Contains(e.EventType)))
        {
            var cmd = new NpgsqlBatchCommand("""
                INSERT INTO webhook_deliveries (tenant_id, conversation_id, event_seq, event_type, url, body, next_attempt_at, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT DO NOTHING
                """);
            cmd.Parameters.AddWithValue(conversation.Tenant.Value);
            cmd.Parameters.AddWithValue(conversation.Local);
            cmd.Parameters.AddWithValue(e.Seq);
            cmd.Parameters.AddWithValue(e.EventType);
            cmd.Parameters.AddWithValue(url);
            cmd.Parameters.AddWithValue(Envelope(conversation, e));
            cmd.Parameters.AddWithValue(now);
            batch.BatchCommands.Add(cmd);
        }
        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync();
        }
    }

    /// <summary>
    /// Claims due deliveries, at most one per conversation (its earliest pending event, so callbacks arrive in order),
    /// leasing them for <paramref name="lease"/> so that another silo does not send them meanwhile.
    /// </summary>
    public async Task<IReadOnlyList<Delivery>> ClaimAsync(DateTimeOffset now, TimeSpan lease, int limit)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE webhook_deliveries SET next_attempt_at = $2
            WHERE id IN (
                SELECT d.id FROM webhook_deliveries d
                WHERE d.status = 'pending' AND d.next_attempt_at <= $1
                  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e
                                  WHERE e.tenant_id = d.tenant_id AND e.conversation_id = d.conversation_id
                                    AND e.status = 'pending' AND e.event_seq < d.event_seq)
                ORDER BY d.id LIMIT $3 FOR UPDATE SKIP LOCKED)
            RETURNING id, tenant_id, conversation_id, event_type, url, body, attempts
            """);
        cmd.Parameters.AddWithValue(now);
        cmd.Parameters.AddWithValue(now + lease);
        cmd.Parameters.AddWithValue(limit);
        var list = new List<Delivery>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            list.Add(new Delivery(reader.GetInt64(0), new TenantId(reader.GetString(1)), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetString(5), reader.GetInt32(6)));
        }
        return list;
    }

    /// <summary>Records one attempt: delivered, retried at <paramref name="retryAt"/>, or failed for good when it is null.</summary>
    public async Task RecordAsync(long id, bool delivered, int? status, string? error, DateTimeOffset now, DateTimeOffset? retryAt)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE webhook_deliveries
            SET attempts = attempts + 1, last_status = $2, last_error = $3,
                status = CASE WHEN $4 THEN 'delivered' WHEN $6::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
                delivered_at = CASE WHEN $4 THEN $5 ELSE NULL END,
                next_attempt_at = COALESCE($6, next_attempt_at)
            WHERE id = $1
            """);
        cmd.Parameters.AddWithValue(id);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        cmd.Parameters.AddWithValue(delivered);
        cmd.Parameters.AddWithValue(now);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (object?)retryAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await cmd.ExecuteNonQueryAsync();
    }

    public sealed record LogEntry(string EventType, string Status, int Attempts, int? LastStatus, string? LastError, DateTimeOffset? DeliveredAt);

    /// <summary>The delivery log of one conversation, oldest first.</summary>
    public async Task<IReadOnlyList<LogEntry>> LogAsync(ConversationId conversation)
    {
        await using var cmd = db.CreateCommand("""
            SELECT event_type, status, attempts, last_status, last_error, delivered_at FROM webhook_deliveries
            WHERE tenant_id = $1 AND conversation_id = $2 ORDER BY event_seq
            """);
        cmd.Parameters.AddWithValue(conversation.Tenant.Value);
        cmd.Parameters.AddWithValue(conversation.Local);
        var list = new List<LogEntry>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            list.Add(new LogEntry(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.IsDBNull(3) ? null : reader.GetInt32(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5)));
        }
        return list;
    }

    public async Task DeleteAsync(ConversationId conversation)
    {
        await using var cmd = db.CreateCommand("DELETE FROM webhook_deliveries WHERE tenant_id = $1 AND conversation_id = $2");
        cmd.Parameters.AddWithValue(conversation.Tenant.Value);
        cmd.Parameters.AddWithValue(conversation.Local);
        await cmd.ExecuteNonQueryAsync();
    }
}
