using System.Text.Json.Nodes;
using Platform.Contracts;

namespace Platform.Api.Infrastructure;

/// <summary>CVI's listing envelope: <c>{ "data": [...], "total_count": n }</c>.</summary>
public static class Listing
{
    public static IResult Json(Page<string> page)
    {
        var items = page.Items.Select(s => JsonNode.Parse(s));
        var body = new JsonObject
        {
            ["data"] = new JsonArray([.. items]),
            ["total_count"] = page.TotalCount,
        };
        return Results.Json(body);
    }
}
