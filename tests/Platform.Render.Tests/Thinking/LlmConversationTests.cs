using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Platform.Render.Thinking;
using Platform.Testing.OpenAi;
using static Platform.Render.Tests.Thinking.ThinkingTestKit;

namespace Platform.Render.Tests.Thinking;

public sealed class LlmConversationTests
{
    private static LlmSettings Settings(OpenAiChatServer server, string model = "test-model") =>
        new(model, BaseUrl: server.BaseUrl.ToString(), ApiKey: "sk-test-123");

    [Fact]
    public async Task Streams_clauses_in_order_named_by_one_inference_id()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply("Hello there, it is lovely to meet you today. The weather is 3.5 degrees warmer than yesterday! What would you like to talk about?");
        var llm = new LlmConversation(Settings(server), Options(), new FakeTimeProvider());

        var events = await CollectAsync(llm.RespondAsync("Hi!", turnIdx: 3, inferenceId: "inf-1"));

        var started = Assert.IsType<LlmTurnStarted>(events[0]);
        Assert.Equal("test-model", started.Model);
        Assert.False(started.IsBuiltIn);
        Assert.Equal(
            ["Hello there,", "it is lovely to meet you today.", "The weather is 3.5 degrees warmer than yesterday!", "What would you like to talk about?"],
            events.Clauses());
        Assert.Equal([0, 1, 2, 3], events.OfType<LlmClause>().Select(c => c.Index));
        Assert.All(events, e => Assert.Equal(("inf-1", 3), (e.InferenceId, e.TurnIdx)));
        var ended = events.Ended();
        Assert.Equal(LlmTurnOutcome.Completed, ended.Outcome);
        Assert.Equal(1, ended.Metrics.Requests);
        Assert.NotNull(ended.Metrics.FirstToken);
        Assert.NotNull(ended.Metrics.FirstClause);
        Assert.Empty(events.OfType<LlmError>());
        Assert.Equal(
            [(ChatRole.User, "Hi!"), (ChatRole.Assistant, ended.GeneratedText)],
            llm.History.Snapshot().Select(m => (m.Role, m.Content)));
    }

    [Fact]
    public async Task Request_carries_prompt_context_history_headers_extra_body_tools_model_and_key()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = r => ChatScript.Reply(r.LastContent("user") == "First question?" ? "First answer." : "Second answer.");
        var tool = JsonDocument.Parse("""
            {"type":"function","function":{"name":"get_weather","description":"Weather in a city","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}
            """).RootElement;
        var bareTool = JsonDocument.Parse("""{"name":"end_call","description":"Ends the call"}""").RootElement;
        var extra = JsonDocument.Parse("""{"temperature":0.25,"chat_template_kwargs":{"enable_thinking":false},"messages":"must not replace"}""").RootElement;
        var settings = new LlmSettings(
            "my-model",
            BaseUrl: server.BaseUrl + "/",
            ApiKey: "sk-secret-42",
            Headers: new Dictionary<string, string> { ["X-Tenant"] = "acme", ["OpenAI-Organization"] = "org-1" },
            ExtraBody: extra,
            Tools: [tool, bareTool],
            SystemPrompt: "You are Anna, a travel agent.",
            Context: "The customer is planning a trip to Lisbon.",
            ConversationalContext: "The customer's name is Sam.");
        var llm = new LlmConversation(settings, Options(), new FakeTimeProvider());

        await CollectAsync(llm.RespondAsync("First question?", 0));
        await CollectAsync(llm.RespondAsync("Second question?", 1));

        Assert.Equal(2, server.Requests.Count);
        var request = server.Requests[1];
        Assert.Equal("/v1/chat/completions", request.Path);
        Assert.Equal("my-model", request.Model);
        Assert.True(request.Stream);
        Assert.Equal("sk-secret-42", request.BearerToken);
        Assert.Equal("acme", request.Headers["X-Tenant"]);
        Assert.Equal("org-1", request.Headers["OpenAI-Organization"]);
        Assert.Equal(0.25, request.Body!["temperature"]!.GetValue<double>());
        Assert.False(request.Body["chat_template_kwargs"]!["enable_thinking"]!.GetValue<bool>());
        Assert.Equal(["chat_template_kwargs"], new ChatRequest(request).ExtraFields.Keys);

        var messages = request.Messages.Select(m => ((string)m!["role"]!, ChatRequest.ContentText(m["content"]))).ToList();
        Assert.Equal(
            [
                ("system", "You are Anna, a travel agent.\n\nThe customer is planning a trip to Lisbon.\n\nThe customer's name is Sam."),
                ("user", "First question?"),
                ("assistant", "First answer."),
                ("user", "Second question?"),
            ],
            messages);

        Assert.Equal(2, request.Tools.Count);
        var function = request.Tools[0]!["function"]!;
        Assert.Equal("function", (string)request.Tools[0]!["type"]!);
        Assert.Equal("get_weather", (string)function["name"]!);
        Assert.Equal("Weather in a city", (string)function["description"]!);
        Assert.Equal("string", (string)function["parameters"]!["properties"]!["city"]!["type"]!);
        Assert.Equal("end_call", (string)request.Tools[1]!["function"]!["name"]!);
    }

    [Fact]
    public async Task A_keyless_endpoint_gets_no_authorization_header()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        var llm = new LlmConversation(new LlmSettings("local", BaseUrl: server.BaseUrl.ToString()), Options(), new FakeTimeProvider());

        var events = await CollectAsync(llm.RespondAsync("Hello", 0));

        Assert.Equal(LlmTurnOutcome.Completed, events.Ended().Outcome);
        Assert.False(server.Requests[0].Headers.ContainsKey("Authorization"));
    }

    [Fact]
    public async Task A_tool_call_pauses_the_turn_until_the_tool_message_continues_it()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = r => (string?)r.Messages[^1]!["role"] == "tool"
            ? ChatScript.Reply("It is sunny and 21 degrees in Paris right now.")
            : ChatScript.Reply("Let me check the weather for you.").WithToolCall("call_abc", "get_weather", """{"city":"Paris","unit":"celsius"}""");
        var tool = JsonDocument.Parse("""{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}""").RootElement;
        var llm = new LlmConversation(Settings(server) with { Tools = [tool] }, Options(), new FakeTimeProvider());
        var requestsAtToolCall = -1;
        var accepted = false;

        var events = await CollectAsync(llm.RespondAsync("What's the weather in Paris?", 5, "inf-tool"), e =>
        {
            if (e is LlmToolCall call)
            {
                requestsAtToolCall = server.Requests.Count;
                var message = JsonDocument.Parse("""{"role":"tool","tool_call_id":"call_abc","content":"{\"temp\":21,\"sky\":\"sunny\"}"}""").RootElement;
                accepted = llm.SubmitToolResult(message, out _);
            }
        });

        Assert.Equal(1, requestsAtToolCall); // the turn waited for the result before asking again
        Assert.True(accepted);
        var call = Assert.Single(events.OfType<LlmToolCall>());
        Assert.Equal(("call_abc", "get_weather", "inf-tool", 5), (call.ToolCallId, call.Name, call.InferenceId, call.TurnIdx));
        Assert.Equal("Paris", JsonDocument.Parse(call.Arguments).RootElement.GetProperty("city").GetString());
        Assert.Equal(["Let me check the weather for you.", "It is sunny and 21 degrees in Paris right now."], events.Clauses());
        var order = events.Select(e => e.GetType().Name).ToList();
        Assert.True(order.IndexOf(nameof(LlmToolCall)) < order.LastIndexOf(nameof(LlmClause)), string.Join(",", order));
        var ended = events.Ended();
        Assert.Equal(LlmTurnOutcome.Completed, ended.Outcome);
        Assert.Equal(2, ended.Metrics.Requests);

        var second = await server.WaitForRequestAsync(1, Deadline);
        var assistant = second.Messages[^2]!.AsObject();
        Assert.Equal("assistant", (string)assistant["role"]!);
        var toolCall = assistant["tool_calls"]![0]!;
        Assert.Equal("call_abc", (string)toolCall["id"]!);
        Assert.Equal("function", (string)toolCall["type"]!);
        Assert.Equal("get_weather", (string)toolCall["function"]!["name"]!);
        Assert.Equal("celsius", JsonNode.Parse((string)toolCall["function"]!["arguments"]!)!["unit"]!.GetValue<string>());
        var toolMessage = second.Messages[^1]!.AsObject();
        Assert.Equal("tool", (string)toolMessage["role"]!);
        Assert.Equal("call_abc", (string)toolMessage["tool_call_id"]!);
        Assert.Equal("{\"temp\":21,\"sky\":\"sunny\"}", ChatRequest.ContentText(toolMessage["content"]));

        Assert.Equal(
            [ChatRole.User, ChatRole.Assistant, ChatRole.Tool, ChatRole.Assistant],
            llm.History.Snapshot().Select(m => m.Role));
    }

    [Fact]
    public async Task A_missing_tool_result_ends_the_turn_with_a_spoken_apology_on_the_session_clock()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.ToolCall("call_slow", "lookup_order", """{"id":7}""");
        var time = new FakeTimeProvider();
        var options = Options();
        var llm = new LlmConversation(Settings(server), options, time);

        var events = await CollectAsync(llm.RespondAsync("Where is my order?", 0), e =>
        {
            if (e is LlmToolCall)
            {
                time.Advance(options.ToolResultTimeout - TimeSpan.FromMilliseconds(1));
                time.Advance(TimeSpan.FromMilliseconds(1));
            }
        });

        var error = Assert.Single(events.OfType<LlmError>());
        Assert.Equal(LlmErrorKind.ToolResultTimeout, error.Kind);
        var fallback = Assert.Single(events.OfType<LlmClause>());
        Assert.True(fallback.IsFallback);
        Assert.Equal(options.ToolTimeoutText, fallback.Text);
        Assert.Equal(LlmTurnOutcome.Failed, events.Ended().Outcome);
        Assert.Single(server.Requests);
        Assert.False(llm.SubmitToolResult(new ToolResult("call_slow", "too late")));

        // The history stays valid for the next request: the call is answered by a tool message.
        var history = llm.History.Snapshot();
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool, ChatRole.Assistant], history.Select(m => m.Role));
        Assert.Equal("call_slow", history[2].ToolCallId);
        Assert.Equal(options.ToolTimeoutText, history[3].Content);
    }

    [Fact]
    public async Task Interruption_aborts_the_http_request_and_history_keeps_what_was_spoken()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        // The server sends the first clause and a little more, then holds the connection open.
        server.Responder = _ => ChatScript.Reply("Paris is the capital of France, and it has many museums. The Louvre is the largest one in the world.").StallAfter(10);
        var llm = new LlmConversation(Settings(server), Options(), new FakeTimeProvider());
        using var interrupt = new CancellationTokenSource();

        var events = await CollectAsync(llm.RespondAsync("Tell me about Paris", 0, "inf-cut", interrupt.Token), e =>
        {
            if (e is LlmClause)
            {
                interrupt.Cancel(); // barge-in after the first clause
            }
        });

        var ended = events.Ended();
        Assert.Equal(LlmTurnOutcome.Interrupted, ended.Outcome);
        Assert.Empty(events.OfType<LlmError>());
        Assert.Equal(["Paris is the capital of France,"], events.Clauses());
        Assert.StartsWith("Paris is the capital of France, and", ended.GeneratedText);
        Assert.Equal(RequestEnd.ClientAborted, await Within(server.Requests[0].Ended, "the server seeing the connection closed"));

        // Until the replica's words are known, history holds what was generated; then what was actually spoken.
        Assert.Equal(ended.GeneratedText, llm.History.Snapshot()[1].Content);
        llm.RecordSpoken("inf-cut", "Paris is the capital");
        server.Responder = _ => ChatScript.Reply("Sure.");
        await CollectAsync(llm.RespondAsync("Sorry, go on", 1));
        var sent = server.Requests[1].Messages.Select(m => ((string)m!["role"]!, ChatRequest.ContentText(m["content"]))).ToList();
        Assert.Equal([("user", "Tell me about Paris"), ("assistant", "Paris is the capital"), ("user", "Sorry, go on")], sent);
    }

    [Fact]
    public async Task Cancelling_while_waiting_for_a_tool_result_ends_the_turn_cleanly()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.ToolCall("call_1", "book_table", "{}");
        var llm = new LlmConversation(Settings(server), Options(), new FakeTimeProvider());
        using var interrupt = new CancellationTokenSource();

        var events = await CollectAsync(llm.RespondAsync("Book a table", 0, "inf-wait", interrupt.Token), e =>
        {
            if (e is LlmToolCall)
            {
                interrupt.Cancel();
            }
        });

        Assert.Equal(LlmTurnOutcome.Interrupted, events.Ended().Outcome);
        Assert.False(llm.SubmitToolResult(new ToolResult("call_1", "done")));
        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool], llm.History.Snapshot().Select(m => m.Role));
    }

    [Fact]
    public async Task A_discarded_speculative_turn_leaves_no_history()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        var llm = new LlmConversation(Settings(server), Options(), new FakeTimeProvider());

        await CollectAsync(llm.RespondAsync("I want to", 0, "spec"));
        llm.Discard("spec");
        await CollectAsync(llm.RespondAsync("I want to fly to Rome", 0, "real"));

        Assert.Equal(["I want to fly to Rome"], server.Requests[1].Messages.Select(m => ChatRequest.ContentText(m!["content"])));
        Assert.Equal(["real", "real"], llm.History.Snapshot().Select(m => m.InferenceId));
    }

    [Fact]
    public async Task Platform_repeat_answers_with_the_utterance_and_makes_no_http_call()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        var llm = new LlmConversation(Settings(server, LlmSettings.RepeatModel), Options(), new FakeTimeProvider());

        var events = await CollectAsync(llm.RespondAsync("I would like to book a flight to Rome. Is that possible?", 2));
        var silent = await CollectAsync(llm.RespondAsync("  ", 3));

        var started = Assert.IsType<LlmTurnStarted>(events[0]);
        Assert.Equal("platform/repeat", started.Model);
        Assert.True(started.IsBuiltIn);
        Assert.Equal(["I would like to book a flight to Rome.", "Is that possible?"], events.Clauses());
        Assert.Equal(LlmTurnOutcome.Completed, events.Ended().Outcome);
        Assert.Equal([new LlmOptions().RepeatEmptyText], silent.Clauses());
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Time_to_first_token_and_first_clause_are_measured_on_the_session_clock()
    {
        // Server and session share one fake clock: first token after 200 ms, then 30 tokens/s.
        var time = new FakeTimeProvider();
        await using var server = await OpenAiChatServer.StartAsync(new OpenAiChatServerOptions
        {
            TimeProvider = time,
            FirstTokenDelay = TimeSpan.FromMilliseconds(200),
            TokensPerSecond = 30,
        });
        server.Responder = _ => ChatScript.Reply("Good morning to you. How are you?");
        var options = Options();
        options.FirstTokenTimeout = options.StallTimeout = TimeSpan.FromHours(1);
        var llm = new LlmConversation(Settings(server), options, time);

        var turn = CollectAsync(llm.RespondAsync("Morning!", 0));
        await PumpClockUntilAsync(time, turn, TimeSpan.FromMilliseconds(10), "the paced answer");
        var events = await turn;

        var metrics = events.Ended().Metrics;
        Assert.True(metrics.FirstToken >= TimeSpan.FromMilliseconds(200), $"first token at {metrics.FirstToken}");
        // "Good morning to you." is 4 tokens: complete with the 4th, due at 200 ms + 3/30 s.
        Assert.True(metrics.FirstClause >= TimeSpan.FromMilliseconds(300), $"first clause at {metrics.FirstClause}");
        Assert.True(metrics.Total >= metrics.FirstClause);
        Assert.Equal(metrics.FirstClause, events.OfType<LlmClause>().First().Elapsed);
    }

    [Fact]
    public async Task Warming_up_lists_the_models_with_the_personas_key_and_headers_and_the_first_turn_reuses_that_connection()
    {
        await using var server = await OpenAiChatServer.StartAsync();
        server.Responder = _ => ChatScript.Reply("Ready.");
        var settings = Settings(server) with { Headers = new Dictionary<string, string> { ["X-Tenant"] = "acme" } };
        var llm = new LlmConversation(settings, Options(), new FakeTimeProvider());

        await llm.WarmUpAsync();

        var warm = Assert.Single(server.ModelListRequests);
        Assert.Equal(("GET", "/v1/models"), (warm.Method, warm.Path));
        Assert.Equal("Bearer sk-test-123", warm.Headers["Authorization"]);
        Assert.Equal("acme", warm.Headers["X-Tenant"]);
        Assert.Empty(server.Requests); // no chat request, nothing billed by the tenant's provider

        var events = await CollectAsync(llm.RespondAsync("Hi!", turnIdx: 1));
        Assert.Equal(["Ready."], events.Clauses());
        Assert.Equal(warm.ConnectionId, Assert.Single(server.Requests).ConnectionId);
    }

    [Fact]
    public async Task Warming_up_against_an_unreachable_endpoint_returns_quietly_and_the_turn_reports_the_failure()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop(); // nothing listens there now
        var llm = new LlmConversation(new LlmSettings("m", $"http://127.0.0.1:{port}/v1", "sk-x"), Options(), new FakeTimeProvider());

        await llm.WarmUpAsync(); // does not throw

        var events = await CollectAsync(llm.RespondAsync("Hi!", turnIdx: 1));
        Assert.NotEmpty(events.OfType<LlmError>());
        Assert.Equal(LlmTurnOutcome.Failed, events.Ended().Outcome);
    }
}
