using System.ClientModel;
using System.ClientModel.Primitives;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;

namespace Platform.Render.Thinking;

/// <summary>
/// Streams answers from any OpenAI-compatible <c>/chat/completions</c> endpoint through the official OpenAI client.
/// Persona headers and <c>extra_body</c> are applied by a pipeline policy just before the transport; the client's
/// own retries are off (a real-time turn cannot wait for back-off) and timeouts are the caller's, on its clock.
/// </summary>
internal sealed class OpenAiChatBackend : ILlmBackend
{
    private static readonly HttpClient SharedHttpClient = new(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(10),
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>The client's request and streaming code, compiled once per process against a canned answer (no network).</summary>
    private static readonly Lazy<Task> CompiledOnce = new(CompileStreamingPathAsync);

    private readonly ChatClient _client;
    private readonly IReadOnlyList<ChatTool> _tools;
    private readonly Uri _models;

    private OpenAiChatBackend(ChatClient client, IReadOnlyList<ChatTool> tools, string model, Uri endpoint)
    {
        _client = client;
        _tools = tools;
        Model = model;
        _models = new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/models");
    }

    public string Model { get; }

    public bool IsBuiltIn => false;

    /// <summary>Builds the backend, or a <see cref="MisconfiguredBackend"/> that names the problem.</summary>
    public static ILlmBackend Create(LlmSettings settings, HttpClient? httpClient)
    {
        if (string.IsNullOrWhiteSpace(settings.Model))
        {
            return new MisconfiguredBackend(settings.Model, "The persona's LLM model is empty.");
        }

        if (string.IsNullOrWhiteSpace(settings.BaseUrl)
            || !Uri.TryCreate(settings.BaseUrl.Trim().TrimEnd('/'), UriKind.Absolute, out var endpoint)
            || endpoint.Scheme is not ("http" or "https"))
        {
            return new MisconfiguredBackend(settings.Model, "The persona's LLM base_url must be an absolute http(s) URL.");
        }

        List<ChatTool> tools;
        try
        {
            tools = (settings.Tools ?? []).Select(ToChatTool).ToList();
        }
        catch (FormatException ex)
        {
            return new MisconfiguredBackend(settings.Model, ex.Message);
        }

        if (settings.ExtraBody is { } extra && extra.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined))
        {
            return new MisconfiguredBackend(settings.Model, "The persona's LLM extra_body must be a JSON object.");
        }

        var options = new OpenAIClientOptions
        {
            Endpoint = endpoint,
            Transport = new HttpClientPipelineTransport(httpClient ?? SharedHttpClient),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromHours(1),
        };
        var keyless = string.IsNullOrEmpty(settings.ApiKey);
        options.AddPolicy(new RequestCustomizationPolicy(settings.Headers, settings.ExtraBody, keyless), PipelinePosition.BeforeTransport);

        // The client requires a credential; for keyless endpoints the policy removes the header it produces.
        var client = new ChatClient(settings.Model, new ApiKeyCredential(keyless ? "unused" : settings.ApiKey!), options);
        return new OpenAiChatBackend(client, tools, settings.Model, endpoint);
    }

    /// <summary>
    /// The first turn of a process paid ≈ 450 ms for compiling the client's code and opening the connection. Both are
    /// done here, while the replica waits for its user: the streaming path runs once per process on a canned answer,
    /// and <c>GET {base_url}/models</c> (OpenAI's model list, served by compatible servers; its answer is not read)
    /// opens a pooled connection to the persona's endpoint through the same pipeline, headers and key included.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await CompiledOnce.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            using var message = _client.Pipeline.CreateMessage();
            message.Request.Method = "GET";
            message.Request.Uri = _models;
            message.Apply(new RequestOptions { CancellationToken = cancellationToken, ErrorOptions = ClientErrorBehaviors.NoThrow });
            await _client.Pipeline.SendAsync(message).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // An unreachable or refusing endpoint is the first turn's to report, in events; a warm-up says nothing.
        }
    }

    private static async Task CompileStreamingPathAsync()
    {
        try
        {
            using var canned = new HttpClient(new CannedStreamHandler());
            using var tool = JsonDocument.Parse("""{"type":"function","function":{"name":"warm_up","parameters":{"type":"object","properties":{}}}}""");
            using var extra = JsonDocument.Parse("""{"temperature":0}""");
            var settings = new LlmSettings("warm-up", "http://warm-up.invalid/v1", "warm-up",
                new Dictionary<string, string> { ["X-Warm-Up"] = "1" }, extra.RootElement, [tool.RootElement]);
            var backend = Create(settings, canned);
            await foreach (var _ in backend.StreamAsync("warm-up", [HistoryMessage.User("warm up")], CancellationToken.None).ConfigureAwait(false))
            {
            }
        }
        catch (Exception)
        {
            // Only speed is at stake.
        }
    }

    /// <summary>Answers any request with a short chat-completion stream in OpenAI's SSE shape: text, a tool call, finish, [DONE].</summary>
    private sealed class CannedStreamHandler : HttpMessageHandler
    {
        private const string Chunk = """data: {"id":"w","object":"chat.completion.chunk","created":0,"model":"warm-up","choices":[{"index":0,"delta":""";

        private const string Body =
            Chunk + """{"role":"assistant","content":"Sure,"},"finish_reason":null}]}""" + "\n\n" +
            Chunk + """{"tool_calls":[{"index":0,"id":"call_w","type":"function","function":{"name":"warm_up","arguments":"{}"}}]},"finish_reason":null}]}""" + "\n\n" +
            Chunk + """{},"finish_reason":"stop"}]}""" + "\n\n" +
            "data: [DONE]\n\n";

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Content is not null)
            {
                await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            }

            return new HttpResponseMessage(System.Net.HttpStatusCode.OK)
            {
                Content = new StringContent(Body, System.Text.Encoding.UTF8, "text/event-stream"),
            };
        }
    }

    public async IAsyncEnumerable<LlmDelta> StreamAsync(string? systemMessage, IReadOnlyList<HistoryMessage> messages, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var chat = new List<ChatMessage>(messages.Count + 1);
        if (systemMessage is not null)
        {
            chat.Add(new SystemChatMessage(systemMessage));
        }

        chat.AddRange(messages.Select(ToChatMessage));
        var options = new ChatCompletionOptions();
        foreach (var tool in _tools)
        {
            options.Tools.Add(tool);
        }

        await foreach (var update in _client.CompleteChatStreamingAsync(chat, options, cancellationToken).WithCancellation(cancellationToken))
        {
            foreach (var part in update.ContentUpdate)
            {
                if (part.Kind == ChatMessageContentPartKind.Text && !string.IsNullOrEmpty(part.Text))
                {
                    yield return new TextDelta(part.Text);
                }
            }

            foreach (var call in update.ToolCallUpdates)
            {
                var arguments = call.FunctionArgumentsUpdate is { } data && !data.IsEmpty ? data.ToString() : null;
                yield return new ToolCallDelta(call.Index, call.ToolCallId, call.FunctionName, arguments);
            }

            if (update.FinishReason is { } finish)
            {
                yield return new FinishDelta(finish switch
                {
                    ChatFinishReason.Stop => "stop",
                    ChatFinishReason.Length => "length",
                    ChatFinishReason.ToolCalls => "tool_calls",
                    ChatFinishReason.ContentFilter => "content_filter",
                    ChatFinishReason.FunctionCall => "function_call",
                    _ => finish.ToString(),
                });
            }
        }
    }

    private static ChatMessage ToChatMessage(HistoryMessage message)
    {
        switch (message.Role)
        {
            case ChatRole.User:
                return new UserChatMessage(message.Content ?? string.Empty);
            case ChatRole.Tool:
                return new ToolChatMessage(message.ToolCallId ?? string.Empty, message.Content ?? string.Empty);
            default:
                if (message.ToolCalls is { Count: > 0 } calls)
                {
                    var assistant = new AssistantChatMessage(calls.Select(c =>
                        ChatToolCall.CreateFunctionToolCall(c.Id, c.Name, BinaryData.FromString(string.IsNullOrEmpty(c.Arguments) ? "{}" : c.Arguments))));
                    if (!string.IsNullOrEmpty(message.Content))
                    {
                        assistant.Content.Add(ChatMessageContentPart.CreateTextPart(message.Content));
                    }

                    return assistant;
                }

                return new AssistantChatMessage(message.Content ?? string.Empty);
        }
    }

    private static ChatTool ToChatTool(JsonElement definition)
    {
        var function = definition.ValueKind == JsonValueKind.Object && definition.TryGetProperty("function", out var f) ? f : definition;
        if (function.ValueKind != JsonValueKind.Object
            || !function.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
        {
            throw new FormatException("Each LLM tool needs a function with a name.");
        }

        var description = function.TryGetProperty("description", out var d) && d.ValueKind == JsonValueKind.String ? d.GetString() : null;
        var parameters = function.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object
            ? BinaryData.FromString(p.GetRawText())
            : null;
        bool? strict = function.TryGetProperty("strict", out var s) && s.ValueKind is JsonValueKind.True or JsonValueKind.False ? s.GetBoolean() : null;
        return ChatTool.CreateFunctionTool(name.GetString()!, description, parameters, strict);
    }

    /// <summary>Adds the persona's headers and merges its extra_body into the JSON request body.</summary>
    private sealed class RequestCustomizationPolicy(IReadOnlyDictionary<string, string>? headers, JsonElement? extraBody, bool keyless) : PipelinePolicy
    {
        // Fields the stage itself depends on; extra_body cannot replace them.
        private static readonly HashSet<string> Reserved = ["messages", "stream"];

        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            ProcessNext(message, pipeline, currentIndex);
        }

        public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Apply(message);
            await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
        }

        private void Apply(PipelineMessage message)
        {
            if (keyless)
            {
                message.Request.Headers.Remove("Authorization");
            }

            foreach (var (name, value) in headers ?? new Dictionary<string, string>())
            {
                message.Request.Headers.Set(name, value);
            }

            if (extraBody is not { ValueKind: JsonValueKind.Object } extra || message.Request.Content is not { } content)
            {
                return;
            }

            using var buffer = new MemoryStream();
            content.WriteTo(buffer, message.CancellationToken);
            if (JsonNode.Parse(buffer.ToArray()) is not JsonObject body)
            {
                return;
            }

            foreach (var property in extra.EnumerateObject())
            {
                if (!Reserved.Contains(property.Name))
                {
                    body[property.Name] = JsonNode.Parse(property.Value.GetRawText());
                }
            }

            message.Request.Content = BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));
        }
    }
}
