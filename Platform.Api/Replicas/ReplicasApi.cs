using Platform.Api.Infrastructure;
using Platform.Contracts;
using Platform.Contracts.Json;

namespace Platform.Api.Replicas;

public static class ReplicasApi
{
    public static RouteGroupBuilder MapReplicas(this RouteGroupBuilder v2)
    {
        var g = v2.MapGroup("/replicas").WithTags("Replicas");
        g.MapPost("/", CreateAsync).Body(CviSchemas.Replica).WithName("CreateReplica").WithSummary("Create a replica from a training video.");
        g.MapGet("/", ListAsync).WithName("ListReplicas").WithSummary("List the tenant's replicas, stock ones included.");
        g.MapGet("/{replica_id}", GetAsync).WithName("GetReplica");
        g.MapDelete("/{replica_id}", DeleteAsync).WithName("DeleteReplica");
        g.MapPatch("/{replica_id}/name", RenameAsync).Body(CviSchemas.ReplicaName).WithName("RenameReplica");
        return v2;
    }

    private static IReplicaGrain Grain(HttpContext http, IGrainFactory grains, string local) =>
        grains.GetGrain<IReplicaGrain>(new ReplicaId(ApiKeyFilter.Tenant(http), local).ToGrainKey());

    private static async Task<IResult> CreateAsync(HttpContext http, IGrainFactory grains)
    {
        var (body, error) = await JsonBody.ReadValidAsync(http.Request, CviSchemas.Replica);
        if (error is not null)
        {
            return error;
        }
        var result = await Grain(http, grains, ReplicaId.New(ApiKeyFilter.Tenant(http)).Local).CreateAsync(body!.ToJsonString());
        return ProblemResults.Ok(result, CviViews.Replica);
    }

    private static async Task<IResult> ListAsync(HttpContext http, IGrainFactory grains)
    {
        var (limit, e1) = Query.Int(http.Request, "limit", 10, 1, 100);
        var (page, e2) = Query.Int(http.Request, "page", 1, 1, 1_000_000);
        var (type, e3) = Query.OneOf(http.Request, "replica_type", "user", "system");
        if ((e1 ?? e2 ?? e3) is { } error)
        {
            return error;
        }
        var listing = await grains.GetGrain<ICatalogGrain>(ApiKeyFilter.Tenant(http).ToGrainKey()).ListAsync(ResourceKind.Replica, page, limit, type is null ? null : "replica_type", type);
        return Listing.Json(listing);
    }

    private static async Task<IResult> GetAsync(HttpContext http, IGrainFactory grains, string replica_id)
    {
        if (!ReplicaId.IsValidLocal(replica_id))
        {
            return ProblemResults.NotFound("replica", replica_id);
        }
        var info = await Grain(http, grains, replica_id).GetAsync();
        return info is null ? ProblemResults.NotFound("replica", replica_id) : Results.Json(CviViews.Replica(info));
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, IGrainFactory grains, string replica_id)
    {
        if (!ReplicaId.IsValidLocal(replica_id) || !await Grain(http, grains, replica_id).DeleteAsync())
        {
            return ProblemResults.NotFound("replica", replica_id);
        }
        return Results.NoContent();
    }

    private static async Task<IResult> RenameAsync(HttpContext http, IGrainFactory grains, string replica_id)
    {
        if (!ReplicaId.IsValidLocal(replica_id))
        {
            return ProblemResults.NotFound("replica", replica_id);
        }
        var (node, error) = await JsonBody.ReadValidAsync(http.Request, CviSchemas.ReplicaName);
        if (error is not null)
        {
            return error;
        }
        var result = await Grain(http, grains, replica_id).RenameAsync(node!["replica_name"]!.GetValue<string>());
        return ProblemResults.Ok(result, CviViews.Replica);
    }
}
