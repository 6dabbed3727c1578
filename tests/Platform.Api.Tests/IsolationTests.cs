using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

/// <summary>
/// Every tenant-scoped endpoint of the running app, found through its EndpointDataSource, answers a foreign tenant's id
/// exactly as it answers a missing id. A new endpoint with a route parameter this test does not know fails it.
/// </summary>
[Collection(ApiCollection.Name)]
public sealed partial class IsolationTests(ApiFixture fx)
{
    private static readonly Dictionary<(string Method, string Pattern), string?> Bodies = new()
    {
        [("PATCH", "/v2/replicas/{replica_id}/name")] = """{"replica_name":"stolen"}""",
        [("PATCH", "/v2/personas/{persona_id}")] = """[{"op":"replace","path":"/persona_name","value":"stolen"}]""",
    };

    [Fact]
    public async Task Foreign_ids_answer_like_missing_ones_on_every_endpoint()
    {
        using var a = await fx.NewTenantAsync();
        using var b = await fx.NewTenantAsync();
        var persona = await a.PersonaAsync();
        var ids = new Dictionary<string, string>
        {
            ["persona_id"] = persona,
            ["replica_id"] = (await Json(await a.Http.PostAsync("/v2/replicas", Body("""{"train_video_url":"https://v.example/a.mp4"}"""))))["replica_id"]!.GetValue<string>(),
            ["conversation_id"] = (await a.ConversationAsync(persona))["conversation_id"]!.GetValue<string>(),
        };
        var missing = new Dictionary<string, string> { ["persona_id"] = "p00000000000a", ["replica_id"] = "r00000000000a", ["conversation_id"] = "c000000000000000a" };

        var endpoints = fx.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/v2/", StringComparison.Ordinal) && e.RoutePattern.Parameters.Count > 0)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Method: m, Pattern: e.RoutePattern.RawText!)))
            .ToList();
        Assert.True(endpoints.Count >= 9, $"found only {endpoints.Count} parameterised endpoints");
        foreach (var (method, pattern) in endpoints)
        {
            var names = ParamRegex().Matches(pattern).Select(m => m.Groups[1].Value).ToList();
            Assert.All(names, n => Assert.True(ids.ContainsKey(n), $"{method} {pattern}: no foreign-tenant case for parameter '{n}'; add one here"));
            var foreignPath = ParamRegex().Replace(pattern, m => ids[m.Groups[1].Value]);
            var missingPath = ParamRegex().Replace(pattern, m => missing[m.Groups[1].Value]);
            Bodies.TryGetValue((method, pattern), out var body);
            var foreign = await Send(b.Http, method, foreignPath, body);
            var absent = await Send(b.Http, method, missingPath, body);
            Assert.True(foreign.Status == 404, $"{method} {foreignPath} as another tenant answered {foreign.Status}: {foreign.Body}");
            Assert.Equal(absent.Status, foreign.Status);
            Assert.Equal(Normalise(absent.Body, missing), Normalise(foreign.Body, ids));
        }

        // The owner's resources are untouched, and listings and body references do not cross tenants either.
        Assert.Equal("active", (await Json(await a.Http.GetAsync($"/v2/conversations/{ids["conversation_id"]}")))["status"]!.GetValue<string>());
        Assert.Equal(0, (await Json(await b.Http.GetAsync("/v2/conversations")))["total_count"]!.GetValue<int>());
        Assert.Equal(0, (await Json(await b.Http.GetAsync("/v2/personas")))["total_count"]!.GetValue<int>());
        Assert.Equal(0, (await Json(await b.Http.GetAsync("/v2/replicas?replica_type=user")))["total_count"]!.GetValue<int>());
        var borrowed = await Json(await b.Http.PostAsync("/v2/conversations", Body($$"""{"persona_id":"{{persona}}"}""")), 422);
        Assert.True(borrowed["errors"]!.AsObject().ContainsKey("persona_id"));
    }

    private static async Task<(int Status, string Body)> Send(HttpClient http, string method, string path, string? body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = Body(body);
        }
        var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string Normalise(string body, Dictionary<string, string> ids)
    {
        foreach (var id in ids.Values)
        {
            body = body.Replace(id, "{id}", StringComparison.Ordinal);
        }
        return TraceRegex().Replace(body, "");
    }

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    private static partial Regex ParamRegex();

    [GeneratedRegex("\"traceId\":\"[^\"]*\"")]
    private static partial Regex TraceRegex();
}
