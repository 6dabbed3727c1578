using Platform.Api.Infrastructure;
using Platform.Contracts;
using Platform.Contracts.Json;

namespace Platform.Api.Conversations;

public static class ConversationsApi
{
    public const string IdempotencyHeader = "Idempotency-Key";

    public static RouteGroupBuilder MapConversations(this RouteGroupBuilder v2)
    {
        var g = v2.MapGroup("/conversations").WithTags("Conversations");
        g.MapPost("/", CreateAsync).Body(CviSchemas.Conversation).WithName("CreateConversation").WithSummary("Start a conversation; honours Idempotency-Key.");
        g.MapGet("/", ListAsync).WithName("ListConversations");
        g.MapGet("/{conversation_id}", GetAsync).WithName("GetConversation").WithSummary("?verbose=true adds events, transcript and shutdown_reason.");
        g.MapPost("/{conversation_id}/end", EndAsync).WithName("EndConversation");
        g.MapDelete("/{conversation_id}", DeleteAsync).WithName("DeleteConversation");
        return v2;
    }

    private static IConversationGrain Grain(HttpContext http, IGrainFactory grains, string local) =>
        grains.GetGrain<IConversationGrain>(new ConversationId(ApiKeyFilter.Tenant(http), local).ToGrainKey());

    private static async Task<IResult> CreateAsync(HttpContext http, IGrainFactory grains)
    {
        var tenant = ApiKeyFilter.Tenant(http);
        string? key = null;
        if (http.Request.Headers.TryGetValue(IdempotencyHeader, out var values))
        {
            key = values.ToString();
            if (key.Length is 0 or > IdempotencyKeys.MaxLength || values.Count > 1)
            {
                return ProblemResults.Field(StatusCodes.Status400BadRequest, IdempotencyHeader, $"'{IdempotencyHeader}' must be one value of 1 to {IdempotencyKeys.MaxLength} characters.");
            }
        }
        var (body, error) = await JsonBody.ReadValidAsync(http.Request, CviSchemas.Conversation);
        if (error is not null)
        {
            return error;
        }
        var result = key is null
            ? await grains.GetGrain<IConversationGrain>(ConversationId.New(tenant).ToGrainKey()).CreateAsync(body!.ToJsonString())
            : await grains.GetGrain<IIdempotentCreateGrain>(IdempotencyKeys.GrainKey(tenant, key)).CreateConversationAsync(body!.ToJsonString());
        if (result.Problem is { Kind: ProblemKind.Unavailable } unavailable && unavailable.Extensions?.GetValueOrDefault("retry_after") is { } retryAfter)
        {
            http.Response.Headers.RetryAfter = retryAfter; // e.g. LiveKit could not create the room
        }
        return ProblemResults.Ok(result, c => CviViews.Conversation(c));
    }

    private static async Task<IResult> ListAsync(HttpContext http, IGrainFactory grains)
    {
        var (limit, e1) = Query.Int(http.Request, "limit", 10, 1, 100);
        var (page, e2) = Query.Int(http.Request, "page", 1, 1, 1_000_000);
        var (status, e3) = Query.OneOf(http.Request, "status", ConversationStatus.Active, ConversationStatus.Ended);
        if ((e1 ?? e2 ?? e3) is { } error)
        {
            return error;
        }
        var listing = await grains.GetGrain<ICatalogGrain>(ApiKeyFilter.Tenant(http).ToGrainKey())
            .ListAsync(ResourceKind.Conversation, page, limit, status is null ? null : "status", status);
        return Listing.Json(listing);
    }

    private static async Task<IResult> GetAsync(HttpContext http, IGrainFactory grains, string conversation_id)
    {
        var (verbose, error) = Query.Bool(http.Request, "verbose");
        if (error is not null)
        {
            return error;
        }
        var info = ConversationId.IsValidLocal(conversation_id) ? await Grain(http, grains, conversation_id).GetAsync(verbose) : null;
        return info is null ? ProblemResults.NotFound("conversation", conversation_id) : Results.Json(CviViews.Conversation(info, verbose));
    }

    private static async Task<IResult> EndAsync(HttpContext http, IGrainFactory grains, string conversation_id)
    {
        if (!ConversationId.IsValidLocal(conversation_id))
        {
            return ProblemResults.NotFound("conversation", conversation_id);
        }
        var result = await Grain(http, grains, conversation_id).EndAsync(ShutdownReasons.EndEndpoint);
        return ProblemResults.Ok(result, c => CviViews.Conversation(c));
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, IGrainFactory grains, string conversation_id) =>
        ConversationId.IsValidLocal(conversation_id) && await Grain(http, grains, conversation_id).DeleteAsync()
            ? Results.NoContent()
            : ProblemResults.NotFound("conversation", conversation_id);
}
