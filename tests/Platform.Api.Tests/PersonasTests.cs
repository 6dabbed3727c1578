using System.Net;
using System.Text.Json.Nodes;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class PersonasTests(ApiFixture fx)
{
    private const string Full = """
        {"persona_name":"Coach","system_prompt":"Be kind.","context":"Sales","pipeline_mode":"full","document_tags":["t"],
         "layers":{"llm":{"model":"gpt-x","base_url":"https://llm.example/v1","api_key":"sk-live-SECRET-123","headers":{"x-team":"a"},"extra_body":{"temperature":0.3},"tools":[{"type":"function","function":{"name":"lookup"}}]},
                   "tts":{"tts_engine":"elevenlabs","external_voice_id":"v1","voice_settings":{"stability":0.5}},
                   "stt":{"stt_engine":"tavus-advanced","hotwords":"Acme"},
                   "perception":{"perception_model":"raven-0"},
                   "conversational_flow":{"turn_taking_patience":"high","replica_interruptibility":"low"}}}
        """;

    [Fact]
    public async Task Create_stores_every_field_and_never_returns_the_key()
    {
        using var t = await fx.NewTenantAsync();
        var response = await t.Http.PostAsync("/v2/personas", Body(Full));
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("SECRET", text);
        var p = JsonNode.Parse(text)!.AsObject();
        Assert.StartsWith("p", p["persona_id"]!.GetValue<string>());
        Assert.Equal("gpt-x", p["layers"]!["llm"]!["model"]!.GetValue<string>());
        Assert.Equal(0.3, p["layers"]!["llm"]!["extra_body"]!["temperature"]!.GetValue<double>());
        Assert.Equal("Acme", p["layers"]!["stt"]!["hotwords"]!.GetValue<string>());
        Assert.Null(p["layers"]!["llm"]!["api_key"]);
        var warnings = p["warnings"]!.AsArray().Select(w => w!.GetValue<string>()).ToList();
        Assert.Contains(warnings, w => w.StartsWith("layers.tts.tts_engine: 'elevenlabs'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("layers.stt.stt_engine: 'tavus-advanced'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("layers.perception.perception_model", StringComparison.Ordinal));
        var got = await t.Http.GetStringAsync($"/v2/personas/{p["persona_id"]}");
        Assert.DoesNotContain("SECRET", got);
        var list = await Json(await t.Http.GetAsync("/v2/personas"));
        Assert.Equal(1, list["total_count"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"persona_name":"x"}""", 422, "system_prompt")]
    [InlineData("""{"system_prompt":"x","layers":{"llm":{"base_url":"https://a.example"}}}""", 422, "layers.llm.model")]
    [InlineData("""{"system_prompt":"x","layers":{"tts":{"tts_engine":"openai_compatible"}}}""", 422, "layers.tts.base_url")]
    [InlineData("""{"system_prompt":"x","default_replica_id":"r999999999"}""", 422, "default_replica_id")]
    [InlineData("""{"system_prompt":"x","layers":{"llm":{"temperature":1}}}""", 400, "layers.llm.temperature")]
    [InlineData("""{"system_prompt":"x","pipeline_mode":"fast"}""", 400, "pipeline_mode")]
    [InlineData("""{"system_prompt":7}""", 400, "system_prompt")]
    public async Task Bad_personas_name_the_field(string body, int status, string field)
    {
        using var t = await fx.NewTenantAsync();
        var problem = await Json(await t.Http.PostAsync("/v2/personas", Body(body)), status);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }

    [Fact]
    public async Task Echo_mode_needs_no_prompt() =>
        await Json(await (await fx.NewTenantAsync()).Http.PostAsync("/v2/personas", Body("""{"pipeline_mode":"echo"}""")));

    [Fact]
    public async Task Json_patch_applies_all_six_operations_atomically()
    {
        using var t = await fx.NewTenantAsync();
        var id = (await Json(await t.Http.PostAsync("/v2/personas", Body(Full))))["persona_id"]!.GetValue<string>();
        var patch = """
            [{"op":"test","path":"/persona_name","value":"Coach"},
             {"op":"replace","path":"/persona_name","value":"Mentor"},
             {"op":"add","path":"/layers/llm/headers/x-more","value":"b"},
             {"op":"remove","path":"/context"},
             {"op":"copy","from":"/system_prompt","path":"/context"},
             {"op":"move","from":"/document_tags","path":"/document_ids"},
             {"op":"replace","path":"/layers/llm/api_key","value":"sk-NEW-KEY"}]
            """;
        var p = await Json(await t.Http.PatchAsync($"/v2/personas/{id}", new StringContent(patch, System.Text.Encoding.UTF8, "application/json-patch+json")));
        Assert.Equal("Mentor", p["persona_name"]!.GetValue<string>());
        Assert.Equal("b", p["layers"]!["llm"]!["headers"]!["x-more"]!.GetValue<string>());
        Assert.Equal("Be kind.", p["context"]!.GetValue<string>());
        Assert.Equal("t", p["document_ids"]![0]!.GetValue<string>());
        Assert.Null(p["document_tags"]);
        Assert.Null(p["layers"]!["llm"]!["api_key"]);
    }

    [Fact]
    public async Task A_failing_test_op_changes_nothing()
    {
        using var t = await fx.NewTenantAsync();
        var id = (await Json(await t.Http.PostAsync("/v2/personas", Body(Full))))["persona_id"]!.GetValue<string>();
        var before = await t.Http.GetStringAsync($"/v2/personas/{id}");
        var problem = await Json(await t.Http.PatchAsync($"/v2/personas/{id}", Body("""
            [{"op":"replace","path":"/persona_name","value":"Changed"},{"op":"test","path":"/context","value":"Marketing"}]
            """)), 409);
        Assert.Contains("test failed", problem["detail"]!.GetValue<string>());
        Assert.Equal(before, await t.Http.GetStringAsync($"/v2/personas/{id}"));
    }

    [Theory]
    [InlineData("""[{"op":"test","path":"/layers/llm/api_key","value":"sk-live-SECRET-123"}]""", 422)]
    [InlineData("""[{"op":"copy","from":"/layers/llm/api_key","path":"/context"}]""", 422)]
    [InlineData("""[{"op":"move","from":"/layers/llm","path":"/layers/tts"}]""", 422)]
    [InlineData("""[{"op":"replace","path":"/nope","value":1}]""", 422)]
    [InlineData("""[{"op":"add","path":"/unknown_field","value":1}]""", 400)]
    [InlineData("""[{"op":"replace","path":"/layers/conversational_flow/turn_taking_patience","value":"extreme"}]""", 400)]
    [InlineData("""[{"op":"remove","path":"/system_prompt"}]""", 422)]
    [InlineData("""{"op":"add"}""", 422)]
    public async Task Bad_patches_are_refused_and_change_nothing(string patch, int status)
    {
        using var t = await fx.NewTenantAsync();
        var id = (await Json(await t.Http.PostAsync("/v2/personas", Body(Full))))["persona_id"]!.GetValue<string>();
        var before = await t.Http.GetStringAsync($"/v2/personas/{id}");
        await Json(await t.Http.PatchAsync($"/v2/personas/{id}", Body(patch)), status);
        Assert.Equal(before, await t.Http.GetStringAsync($"/v2/personas/{id}"));
    }

    [Fact]
    public async Task Delete_then_gone()
    {
        using var t = await fx.NewTenantAsync();
        var id = await t.PersonaAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await t.Http.DeleteAsync($"/v2/personas/{id}")).StatusCode);
        await Json(await t.Http.GetAsync($"/v2/personas/{id}"), 404);
        await Json(await t.Http.PatchAsync($"/v2/personas/{id}", Body("[]")), 404);
    }
}
