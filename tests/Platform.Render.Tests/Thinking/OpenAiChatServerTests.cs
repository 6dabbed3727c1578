using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Platform.Testing.OpenAi;
using static Platform.Render.Tests.Thinking.ThinkingTestKit;

namespace Platform.Render.Tests.Thinking;

/// <summary>The shared test server speaks OpenAI's wire protocol byte for byte where clients care.</summary>
public sealed class OpenAiChatServerTests
{
    private static readonly HttpClient Http = new() { Timeout = Deadline };

    private static HttpRequestMessage Post(OpenAiChatServer server, string body, string? key = "sk-1")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(server.Root, "v1/chat/completions"))
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }

        request.Headers.Add("X-Trace", "t-1");
        return request;
    }

    private static async Task<List<string>> ReadEventsAsync(HttpResponseMessage response)
    {
        var data = new List<string>();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }

            Assert.StartsWith("data: ", line);
            data.Add(line["data: ".Length..]);
        }

        return data;
    }

    [Fact]
    public async Task Streams_chunks_as_server_sent_events_ending_with_done()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply("Hi there, friend.");

        using var response = await Http.SendAsync(Post(server, """{"model":"m1","stream":true,"messages":[{"role":"user","content":"Hi"}],"foo":42}"""), HttpCompletionOption.ResponseHeadersRead);
        var events = await ReadEventsAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonNode.Parse(e)!).ToList();
        Assert.All(chunks, c =>
        {
            Assert.Equal("chat.completion.chunk", (string)c["object"]!);
            Assert.Equal("m1", (string)c["model"]!);
            Assert.Equal((string)chunks[0]["id"]!, (string)c["id"]!);
        });
        Assert.Equal("assistant", (string)chunks[0]["choices"]![0]!["delta"]!["role"]!);
        Assert.Equal("Hi there, friend.", string.Concat(chunks.Select(c => (string?)c["choices"]![0]!["delta"]!["content"])));
        Assert.Equal("stop", (string)chunks[^1]["choices"]![0]!["finish_reason"]!);
        Assert.All(chunks[..^1], c => Assert.Null(c["choices"]![0]!["finish_reason"]));

        var recorded = Assert.Single(server.Requests);
        Assert.Equal(RequestEnd.Completed, await Within(recorded.Ended, "the request ending"));
        Assert.Equal("sk-1", recorded.BearerToken);
        Assert.Equal("t-1", recorded.Headers["x-trace"]);
        Assert.Equal(42, recorded.Body!["foo"]!.GetValue<int>());
    }

    [Fact]
    public async Task Streams_tool_calls_as_indexed_fragments()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        const string arguments = """{"city":"Paris","days":3}""";
        server.Responder = _ => ChatScript.ToolCall("call_1", "forecast", arguments).WithToolCall("call_2", "hang_up", "{}");

        using var response = await Http.SendAsync(Post(server, """{"model":"m","stream":true,"messages":[]}"""), HttpCompletionOption.ResponseHeadersRead);
        var chunks = (await ReadEventsAsync(response))[..^1].Select(e => JsonNode.Parse(e)!["choices"]![0]!).ToList();

        var fragments = chunks.Where(c => c["delta"]!["tool_calls"] is not null).Select(c => c["delta"]!["tool_calls"]![0]!).ToList();
        var head = fragments[0];
        Assert.Equal((0, "call_1", "function", "forecast", ""), ((int)head["index"]!, (string)head["id"]!, (string)head["type"]!, (string)head["function"]!["name"]!, (string)head["function"]!["arguments"]!));
        var first = fragments.Where(f => (int)f["index"]! == 0).Skip(1).ToList();
        Assert.True(first.Count > 1);
        Assert.All(first, f => Assert.Null(f["id"]));
        Assert.Equal(arguments, string.Concat(first.Select(f => (string)f["function"]!["arguments"]!)));
        Assert.Equal("call_2", (string)fragments.First(f => (int)f["index"]! == 1)["id"]!);
        Assert.Equal("tool_calls", (string)chunks[^1]["finish_reason"]!);
    }

    [Fact]
    public async Task Answers_without_streaming_as_one_chat_completion()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply("Sure thing.").WithToolCall("call_9", "note", """{"x":1}""");

        using var response = await Http.SendAsync(Post(server, """{"model":"m","messages":[{"role":"user","content":"Go"}]}"""));
        var completion = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.Equal("chat.completion", (string)completion["object"]!);
        var choice = completion["choices"]![0]!;
        Assert.Equal("Sure thing.", (string)choice["message"]!["content"]!);
        Assert.Equal("note", (string)choice["message"]!["tool_calls"]![0]!["function"]!["name"]!);
        Assert.Equal("tool_calls", (string)choice["finish_reason"]!);
    }

    [Fact]
    public async Task Sends_openai_error_bodies_retry_after_and_checks_the_key()
    {
        await using var server = await OpenAiChatServer.StartAsync(new OpenAiChatServerOptions { RequiredApiKey = "sk-right" });
        server.Responder = _ => ChatScript.RateLimited(TimeSpan.FromSeconds(2));

        using var wrongKey = await Http.SendAsync(Post(server, """{"model":"m","messages":[]}""", "sk-wrong"));
        using var limited = await Http.SendAsync(Post(server, """{"model":"m","messages":[]}""", "sk-right"));

        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Equal("invalid_api_key", (string)JsonNode.Parse(await wrongKey.Content.ReadAsStringAsync())!["error"]!["code"]!);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), limited.Headers.RetryAfter?.Delta);
        Assert.NotNull(JsonNode.Parse(await limited.Content.ReadAsStringAsync())!["error"]!["message"]);
    }

    [Fact]
    public async Task Paces_tokens_on_its_clock_first_token_delay_then_token_rate()
    {
        var time = new FakeTimeProvider();
        await using var server = await OpenAiChatServer.StartAsync(new OpenAiChatServerOptions
        {
            TimeProvider = time,
            FirstTokenDelay = TimeSpan.FromMilliseconds(200),
            TokensPerSecond = 30,
        });
        server.Responder = _ => ChatScript.Tokens("one", " two", " three", " four", " five", " six");
        var start = time.GetUtcNow();

        var reading = Task.Run(async () =>
        {
            using var response = await Http.SendAsync(Post(server, """{"model":"m","stream":true,"messages":[],"stream_options":{"include_usage":true}}"""), HttpCompletionOption.ResponseHeadersRead);
            return await ReadEventsAsync(response);
        });
        await PumpClockUntilAsync(time, reading, TimeSpan.FromMilliseconds(10), "the paced stream");
        var events = await reading;

        // Role chunk and first token at 200 ms, then 30 tokens/s: the sixth token is due at 200 ms + 5/30 s.
        Assert.True(time.GetUtcNow() - start >= TimeSpan.FromMilliseconds(366), $"stream ended at {time.GetUtcNow() - start}");
        var usage = JsonNode.Parse(events[^2])!;
        Assert.Empty(usage["choices"]!.AsArray());
        Assert.Equal(6, (int)usage["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task Disposing_the_server_ends_a_stalled_answer_at_once()
    {
        var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply("Never finished").StallAfter(1);
        using var response = await Http.SendAsync(Post(server, """{"model":"m","stream":true,"messages":[]}"""), HttpCompletionOption.ResponseHeadersRead);
        await Within(server.Requests[0].Stalled.ContinueWith(_ => true), "the stall");

        await Within(server.DisposeAsync().AsTask().ContinueWith(_ => true), "the server stopping");
    }
}
