using System.Net;
using Platform.Contracts;
using static Platform.Api.Tests.ApiFixture;

namespace Platform.Api.Tests;

[Collection(ApiCollection.Name)]
public sealed class ConversationsTests(ApiFixture fx)
{
    [Fact]
    public async Task Create_answers_in_cvi_shape_with_an_unguessable_url()
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync();
        var c = await t.ConversationAsync(persona, ""","conversation_name":"Demo","callback_url":"https://hooks.example/cb","custom_greeting":"Hi!","properties":{"max_call_duration":600,"language":"english"}""");
        Assert.Equal("active", c["status"]!.GetValue<string>());
        Assert.Equal("Demo", c["conversation_name"]!.GetValue<string>());
        Assert.Equal(persona, c["persona_id"]!.GetValue<string>());
        Assert.NotNull(c["replica_id"]);
        Assert.Equal("https://hooks.example/cb", c["callback_url"]!.GetValue<string>());
        Assert.True(DateTimeOffset.TryParse(c["created_at"]!.GetValue<string>(), out _));
        var id = c["conversation_id"]!.GetValue<string>();
        var url = new Uri(c["conversation_url"]!.GetValue<string>());
        var token = url.Segments[^1];
        Assert.Contains(id, url.AbsolutePath);
        Assert.True(token.Length >= 32 && token.All(Uri.IsHexDigit), $"token '{token}' should carry at least 128 bits");
        Assert.Null(c["meeting_token"]);
        // Stored as sent: every CVI field comes back.
        var got = await Json(await t.Http.GetAsync($"/v2/conversations/{id}"));
        Assert.Equal("Hi!", got["custom_greeting"]!.GetValue<string>());
        Assert.Equal(600, got["properties"]!["max_call_duration"]!.GetValue<int>());
    }

    [Fact]
    public async Task Require_auth_returns_a_meeting_token_once()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(await t.PersonaAsync(), ""","require_auth":true""");
        Assert.StartsWith("mt_", c["meeting_token"]!.GetValue<string>());
        var got = await Json(await t.Http.GetAsync($"/v2/conversations/{c["conversation_id"]}"));
        Assert.Null(got["meeting_token"]);
    }

    [Theory]
    [InlineData("""{"persona_id":"p000000000000"}""", 422, "persona_id")]
    [InlineData("""{}""", 422, "persona_id")]
    [InlineData("""{"persona_id":"PERSONA","replica_id":"r1"}""", 422, "persona_id")]
    [InlineData("""{"persona_id":"@P","bogus_field":1}""", 400, "bogus_field")]
    [InlineData("""{"persona_id":"@P","properties":{"language":"klingon"}}""", 422, "properties.language")]
    [InlineData("""{"persona_id":"@P","replica_id":"r000000000000"}""", 422, "replica_id")]
    [InlineData("""{"persona_id":"@P","properties":{"max_call_duration":"long"}}""", 400, "properties.max_call_duration")]
    [InlineData("""{"persona_id":"@P","test_mode":"yes"}""", 400, "test_mode")]
    public async Task Bad_requests_name_the_field(string body, int status, string field)
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync();
        var response = await t.Http.PostAsync("/v2/conversations", Body(body.Replace("@P", persona, StringComparison.Ordinal)));
        var problem = await Json(response, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.True(problem["errors"]!.AsObject().ContainsKey(field), problem.ToJsonString());
    }

    [Fact]
    public async Task Unsupported_language_names_the_supported_ones()
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync();
        var problem = await Json(await t.Http.PostAsync("/v2/conversations", Body($$$"""{"persona_id":"{{{persona}}}","properties":{"language":"french"}}""")), 422);
        Assert.Contains("'english'", problem["detail"]!.GetValue<string>());
        // With openai_compatible STT and TTS any language is possible.
        var byo = await t.PersonaAsync("""{"stt":{"stt_engine":"openai_compatible","base_url":"https://stt.example/v1","model":"whisper-1"},"tts":{"tts_engine":"openai_compatible","base_url":"https://tts.example/v1","model":"tts-1"}}""");
        await t.ConversationAsync(byo, ""","properties":{"language":"french"}""");
    }

    [Fact]
    public async Task End_then_delete()
    {
        using var t = await fx.NewTenantAsync();
        var c = await t.ConversationAsync(await t.PersonaAsync());
        var id = c["conversation_id"]!.GetValue<string>();
        var ended = await Json(await t.Http.PostAsync($"/v2/conversations/{id}/end", null));
        Assert.Equal("ended", ended["status"]!.GetValue<string>());
        Assert.Equal(ShutdownReasons.EndEndpoint, ended["shutdown_reason"]!.GetValue<string>());
        // Ending twice keeps the first reason.
        var again = await Json(await t.Http.PostAsync($"/v2/conversations/{id}/end", null));
        Assert.Equal(ShutdownReasons.EndEndpoint, again["shutdown_reason"]!.GetValue<string>());
        var verbose = await Json(await t.Http.GetAsync($"/v2/conversations/{id}?verbose=true"));
        Assert.Contains(verbose["events"]!.AsArray(), e => e!["event_type"]!.GetValue<string>() == "system.shutdown"
            && e["properties"]!["shutdown_reason"]!.GetValue<string>() == ShutdownReasons.EndEndpoint);
        Assert.NotNull(verbose["transcript"]);
        Assert.Equal(HttpStatusCode.NoContent, (await t.Http.DeleteAsync($"/v2/conversations/{id}")).StatusCode);
        await Json(await t.Http.GetAsync($"/v2/conversations/{id}"), 404);
        await Json(await t.Http.DeleteAsync($"/v2/conversations/{id}"), 404);
    }

    [Fact]
    public async Task Delete_of_a_live_conversation_ends_it_and_frees_its_slot()
    {
        using var t = await fx.NewTenantAsync("""{"max_concurrent_conversations":1,"requests_per_second":100000}""");
        var persona = await t.PersonaAsync();
        var c = await t.ConversationAsync(persona);
        await Json(await t.Http.PostAsync("/v2/conversations", Body($$"""{"persona_id":"{{persona}}"}""")), 429);
        Assert.Equal(HttpStatusCode.NoContent, (await t.Http.DeleteAsync($"/v2/conversations/{c["conversation_id"]}")).StatusCode);
        await t.ConversationAsync(persona);
    }

    [Fact]
    public async Task Listing_pages_and_filters_by_status()
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await t.ConversationAsync(persona))["conversation_id"]!.GetValue<string>());
        }
        await t.Http.PostAsync($"/v2/conversations/{ids[0]}/end", null);
        await t.Http.PostAsync($"/v2/conversations/{ids[1]}/end", null);
        var page1 = await Json(await t.Http.GetAsync("/v2/conversations?limit=2&page=1"));
        var page3 = await Json(await t.Http.GetAsync("/v2/conversations?limit=2&page=3"));
        Assert.Equal(5, page1["total_count"]!.GetValue<int>());
        Assert.Equal(2, page1["data"]!.AsArray().Count);
        Assert.Single(page3["data"]!.AsArray());
        var active = await Json(await t.Http.GetAsync("/v2/conversations?status=active&limit=100"));
        Assert.Equal(3, active["total_count"]!.GetValue<int>());
        Assert.All(active["data"]!.AsArray(), c => Assert.Equal("active", c!["status"]!.GetValue<string>()));
        var ended = await Json(await t.Http.GetAsync("/v2/conversations?status=ended"));
        Assert.Equal(new[] { ids[0], ids[1] }.Order(), ended["data"]!.AsArray().Select(c => c!["conversation_id"]!.GetValue<string>()).Order());
        var beyond = await Json(await t.Http.GetAsync("/v2/conversations?limit=2&page=9"));
        Assert.Empty(beyond["data"]!.AsArray());
        Assert.Equal(5, beyond["total_count"]!.GetValue<int>());
        var bad = await Json(await t.Http.GetAsync("/v2/conversations?status=paused"), 400);
        Assert.True(bad["errors"]!.AsObject().ContainsKey("status"));
        await Json(await t.Http.GetAsync("/v2/conversations?limit=0"), 400);
    }

    [Fact]
    public async Task Concurrency_limit_answers_429_naming_limit_and_count_and_ending_frees_at_once()
    {
        using var t = await fx.NewTenantAsync("""{"max_concurrent_conversations":2,"requests_per_second":100000}""");
        var persona = await t.PersonaAsync();
        var first = await t.ConversationAsync(persona);
        await t.ConversationAsync(persona, ""","test_mode":true""");
        var problem = await Json(await t.Http.PostAsync("/v2/conversations", Body($$"""{"persona_id":"{{persona}}"}""")), 429);
        Assert.Equal(2, problem["limit"]!.GetValue<int>());
        Assert.Equal(2, problem["current"]!.GetValue<int>());
        await t.Http.PostAsync($"/v2/conversations/{first["conversation_id"]}/end", null);
        await t.ConversationAsync(persona);
    }

    [Fact]
    public async Task Warnings_report_what_is_substituted()
    {
        using var t = await fx.NewTenantAsync();
        var persona = await t.PersonaAsync("""{"tts":{"tts_engine":"cartesia","external_voice_id":"abc"}}""");
        var c = await t.ConversationAsync(persona, ""","properties":{"enable_recording":true}""");
        var warnings = c["warnings"]!.AsArray().Select(w => w!.GetValue<string>()).ToList();
        Assert.Contains(warnings, w => w.StartsWith("layers.tts.tts_engine: 'cartesia'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.StartsWith("properties.enable_recording", StringComparison.Ordinal));
        var verbose = await Json(await t.Http.GetAsync($"/v2/conversations/{c["conversation_id"]}?verbose=true"));
        Assert.Equal(warnings.Count, verbose["events"]!.AsArray().Count(e => e!["event_type"]!.GetValue<string>() == "system.warning"));
    }
}
