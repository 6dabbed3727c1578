using Platform.Api.Infrastructure;
using Platform.Contracts;
using Platform.Contracts.Json;

namespace Platform.Api.Personas;

public static class PersonasApi
{
    public static RouteGroupBuilder MapPersonas(this RouteGroupBuilder v2)
    {
        var g = v2.MapGroup("/personas").WithTags("Personas");
        g.MapPost("/", CreateAsync).Body(CviSchemas.Persona).WithName("CreatePersona").WithSummary("Create a persona: prompt, context and layers.");
        g.MapGet("/", ListAsync).WithName("ListPersonas");
        g.MapGet("/{persona_id}", GetAsync).WithName("GetPersona");
        g.MapPatch("/{persona_id}", PatchAsync).Body(JsonPatchShape.Document, "application/json-patch+json").WithName("PatchPersona").WithSummary("Apply a JSON Patch (RFC 6902) atomically.");
        g.MapDelete("/{persona_id}", DeleteAsync).WithName("DeletePersona");
        return v2;
    }

    private static IPersonaGrain Grain(HttpContext http, IGrainFactory grains, string local) =>
        grains.GetGrain<IPersonaGrain>(new PersonaId(ApiKeyFilter.Tenant(http), local).ToGrainKey());

    private static async Task<IResult> CreateAsync(HttpContext http, IGrainFactory grains)
    {
        var (body, error) = await JsonBody.ReadValidAsync(http.Request, CviSchemas.Persona);
        if (error is not null)
        {
            return error;
        }
        var result = await Grain(http, grains, PersonaId.New(ApiKeyFilter.Tenant(http)).Local).CreateAsync(body!.ToJsonString());
        return ProblemResults.Ok(result, CviViews.Persona);
    }

    private static async Task<IResult> ListAsync(HttpContext http, IGrainFactory grains)
    {
        var (limit, e1) = Query.Int(http.Request, "limit", 10, 1, 100);
        var (page, e2) = Query.Int(http.Request, "page", 1, 1, 1_000_000);
        if ((e1 ?? e2) is { } error)
        {
            return error;
        }
        return Listing.Json(await grains.GetGrain<ICatalogGrain>(ApiKeyFilter.Tenant(http).ToGrainKey()).ListAsync(ResourceKind.Persona, page, limit));
    }

    private static async Task<IResult> GetAsync(HttpContext http, IGrainFactory grains, string persona_id)
    {
        var info = PersonaId.IsValidLocal(persona_id) ? await Grain(http, grains, persona_id).GetAsync() : null;
        return info is null ? ProblemResults.NotFound("persona", persona_id) : Results.Json(CviViews.Persona(info));
    }

    private static async Task<IResult> PatchAsync(HttpContext http, IGrainFactory grains, string persona_id)
    {
        if (!PersonaId.IsValidLocal(persona_id))
        {
            return ProblemResults.NotFound("persona", persona_id);
        }
        var (node, error) = await JsonBody.ReadAsync(http.Request);
        if (error is not null)
        {
            return error;
        }
        var result = await Grain(http, grains, persona_id).PatchAsync(node!.ToJsonString());
        return ProblemResults.Ok(result, CviViews.Persona);
    }

    private static async Task<IResult> DeleteAsync(HttpContext http, IGrainFactory grains, string persona_id) =>
        PersonaId.IsValidLocal(persona_id) && await Grain(http, grains, persona_id).DeleteAsync()
            ? Results.NoContent()
            : ProblemResults.NotFound("persona", persona_id);
}
