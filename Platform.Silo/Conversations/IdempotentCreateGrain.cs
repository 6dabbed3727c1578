using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Platform.Contracts;
using Platform.Silo.Infrastructure;

namespace Platform.Silo.Conversations;

/// <summary>
/// One Idempotency-Key of one tenant. Being a single non-reentrant activation, it serialises concurrent duplicates: the
/// first creates, the others find its record. Records live 24 h in <c>idempotency_records</c>.
/// </summary>
internal sealed class IdempotentCreateGrain(AppDatabase database, TimeProvider time) : Grain, IIdempotentCreateGrain
{
    public static readonly TimeSpan Retention = TimeSpan.FromHours(24);

    public async Task<Result<ConversationInfo>> CreateConversationAsync(string documentJson)
    {
        var (tenant, keyHash) = LocalIds.SplitKey(this.GetPrimaryKeyString());
        // The body's meaning, not its bytes: member order and whitespace do not make a different request.
        var requestHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Canonical(JsonNode.Parse(documentJson)))));
        var now = time.GetUtcNow();
        var record = await database.ReadIdempotencyAsync(tenant, keyHash);
        if (record is not null && now - record.CreatedAt < Retention)
        {
            if (record.RequestHash != requestHash)
            {
                return Problem.Field(ProblemKind.Unprocessable, "Idempotency-Key",
                    "This Idempotency-Key was used with a different request body in the last 24 hours; use a new key for a new request.");
            }
            var existing = await GrainFactory.GetGrain<IConversationGrain>(new ConversationId(tenant, record.ConversationLocalId).ToGrainKey()).GetAsync(false);
            if (existing is not null)
            {
                return Result<ConversationInfo>.Ok(existing);
            }
            return Problem.Field(ProblemKind.Conflict, "Idempotency-Key", "The conversation created with this Idempotency-Key has since been deleted.");
        }
        var id = ConversationId.New(tenant);
        var created = await GrainFactory.GetGrain<IConversationGrain>(id.ToGrainKey()).CreateAsync(documentJson);
        if (created.IsOk)
        {
            await database.WriteIdempotencyAsync(tenant, keyHash, new AppDatabase.IdempotencyRecord(requestHash, id.Local, now));
        }
        return created;
    }

    private static string Canonical(JsonNode? node) => node switch
    {
        JsonObject o => "{" + string.Join(",", o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => JsonValue.Create(p.Key).ToJsonString() + ":" + Canonical(p.Value))) + "}",
        JsonArray a => "[" + string.Join(",", a.Select(Canonical)) + "]",
        null => "null",
        _ => node.ToJsonString(),
    };
}
