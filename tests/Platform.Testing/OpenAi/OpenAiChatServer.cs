using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Platform.Testing.OpenAi;

/// <summary>Defaults of an <see cref="OpenAiChatServer"/>.</summary>
public sealed class OpenAiChatServerOptions
{
    /// <summary>Delay before the first chunk when a script does not set one. Benchmarks use 200 ms.</summary>
    public TimeSpan FirstTokenDelay { get; set; } = TimeSpan.Zero;

    /// <summary>Chunks per second when a script does not set it; 0 = as fast as possible. Benchmarks use 30.</summary>
    public double TokensPerSecond { get; set; }

    /// <summary>Clock for the delays: the system clock for benchmarks, a fake one for logical-time tests.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>When set, requests without "Authorization: Bearer {key}" get a 401 like OpenAI's.</summary>
    public string? RequiredApiKey { get; set; }

    /// <summary>The benchmark's endpoint: first token after 200 ms, then 30 tokens/s, on the system clock, saying <see cref="BenchmarkAnswer"/>.</summary>
    public static OpenAiChatServerOptions Benchmark() => new()
    {
        FirstTokenDelay = TimeSpan.FromMilliseconds(200),
        TokensPerSecond = 30,
        TimeProvider = TimeProvider.System,
        Responder = _ => ChatScript.Reply(BenchmarkAnswer),
    };

    /// <summary>What the benchmarks' LLM says to everything (the engine and the browser bench hear the same answer).</summary>
    public const string BenchmarkAnswer = "Sure, I can help with that. The next one leaves in ten minutes from platform two. Would you like anything else?";

    /// <summary>Answers each request; the default replies with a fixed greeting.</summary>
    public Func<ChatRequest, ChatScript> Responder { get; set; } = _ => ChatScript.Reply("Hello! How can I help you today?");
}

/// <summary>
/// A local server speaking OpenAI's Chat Completions wire protocol on 127.0.0.1 (a free port):
/// <c>POST /v1/chat/completions</c>, streaming (server-sent events of <c>chat.completion.chunk</c> objects, ending
/// with <c>data: [DONE]</c>) or not, with scripted content, tool calls, timing and failures. It records every request.
/// </summary>
public sealed class OpenAiChatServer : IAsyncDisposable
{
    private static readonly JsonSerializerOptions Compact = new() { WriteIndented = false };

    private readonly WebApplication _app;
    private readonly OpenAiChatServerOptions _options;
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<RecordedRequest> _modelLists = [];
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _completionCounter;

    private OpenAiChatServer(WebApplication app, OpenAiChatServerOptions options)
    {
        _app = app;
        _options = options;
    }

    /// <summary>The server root, e.g. http://127.0.0.1:41234/.</summary>
    public Uri Root { get; private set; } = null!;

    /// <summary>The OpenAI base URL (what clients take as <c>base_url</c>): the root plus <c>v1</c>.</summary>
    public Uri BaseUrl => new(Root, "v1");

    /// <summary>The responder for the next requests; tests replace it freely.</summary>
    public Func<ChatRequest, ChatScript> Responder
    {
        get => _options.Responder;
        set => _options.Responder = value;
    }

    public OpenAiChatServerOptions Options => _options;

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>The <c>GET /v1/models</c> requests received (clients warming up), in order; not in <see cref="Requests"/>.</summary>
    public IReadOnlyList<RecordedRequest> ModelListRequests
    {
        get
        {
            lock (_gate)
            {
                return [.. _modelLists];
            }
        }
    }

    public static async Task<OpenAiChatServer> StartAsync(OpenAiChatServerOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new OpenAiChatServerOptions();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new OpenAiChatServer(app, options);
        app.MapPost("/v1/chat/completions", server.HandleChatAsync);
        app.MapGet("/v1/models", server.HandleModels);
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.Root = new Uri(address.TrimEnd('/') + "/");
        return server;
    }

    /// <summary>Waits (real time, as a test deadline) until the server has received request number <paramref name="index"/> (0-based).</summary>
    public async Task<RecordedRequest> WaitForRequestAsync(int index, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_requests.Count > index)
                {
                    return _requests[index];
                }

                changed = _changed.Task;
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"The OpenAI test server received {_requests.Count} request(s) within {timeout}, expected at least {index + 1}.");
            }

            await Task.WhenAny(changed, Task.Delay(left));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync(); // ends stalled and delayed answers at once
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private IResult HandleModels(HttpContext context)
    {
        lock (_gate)
        {
            _modelLists.Add(new RecordedRequest(_modelLists.Count, context.Request.Method, context.Request.Path, Headers(context), "")
            {
                ConnectionId = context.Connection.Id,
            });
        }

        return Results.Json(new { @object = "list", data = new[] { new { id = "test-model", @object = "model", created = 0, owned_by = "tests" } } });
    }

    private static Dictionary<string, string> Headers(HttpContext context) =>
        context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);

    private async Task HandleChatAsync(HttpContext context)
    {
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        context.RequestAborted = aborted.Token;
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(context.RequestAborted);
        }

        var headers = Headers(context);
        RecordedRequest recorded;
        lock (_gate)
        {
            recorded = new RecordedRequest(_requests.Count, context.Request.Method, context.Request.Path, headers, body) { ConnectionId = context.Connection.Id };
            _requests.Add(recorded);
            var changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            changed.TrySetResult();
        }

        try
        {
            await RespondAsync(context, recorded);
            recorded.End(context.RequestAborted.IsCancellationRequested ? RequestEnd.ClientAborted : RequestEnd.Completed);
        }
        catch (Exception) when (context.RequestAborted.IsCancellationRequested)
        {
            recorded.End(RequestEnd.ClientAborted);
        }
        catch (IOException)
        {
            recorded.End(RequestEnd.ClientAborted);
        }
    }

    private async Task RespondAsync(HttpContext context, RecordedRequest recorded)
    {
        var response = context.Response;
        if (_options.RequiredApiKey is { } key && recorded.BearerToken != key)
        {
            await WriteErrorAsync(response, 401, "Incorrect API key provided.", "invalid_api_key", context.RequestAborted);
            return;
        }

        if (recorded.Body is null)
        {
            await WriteErrorAsync(response, 400, "We could not parse the JSON body of your request.", null, context.RequestAborted);
            return;
        }

        ChatScript script;
        try
        {
            script = _options.Responder(new ChatRequest(recorded));
        }
        catch (Exception ex)
        {
            await WriteErrorAsync(response, 500, "The test responder threw: " + ex, null, context.RequestAborted);
            return;
        }

        foreach (var (name, value) in script.ResponseHeaders)
        {
            response.Headers[name] = value;
        }

        if (script.Failure == FailureKind.HttpStatus)
        {
            await WriteErrorAsync(response, script.Status, script.ErrorMessage ?? "error", script.ErrorCode, context.RequestAborted);
            return;
        }

        var id = "chatcmpl-test" + Interlocked.Increment(ref _completionCounter).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var model = recorded.Model ?? "unknown";
        if (recorded.Stream)
        {
            await StreamAsync(context, recorded, script, id, model, recorded.Body["stream_options"]?["include_usage"]?.GetValue<bool>() == true);
        }
        else
        {
            await AnswerWholeAsync(context, recorded, script, id, model);
        }
    }

    private async Task StreamAsync(HttpContext context, RecordedRequest recorded, ChatScript script, string id, string model, bool includeUsage)
    {
        var ct = context.RequestAborted;
        var response = context.Response;
        response.StatusCode = 200;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        await response.StartAsync(ct);
        await response.Body.FlushAsync(ct);

        var time = _options.TimeProvider;
        var start = time.GetTimestamp();
        var firstDelay = script.FirstTokenDelay ?? _options.FirstTokenDelay;
        var rate = script.TokensPerSecond ?? _options.TokensPerSecond;
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var sent = 0;
        var tokenIndex = 0;

        // Returns false when the script's failure took over the stream.
        async Task<bool> SendAsync(JsonObject delta, string? finishReason, bool paced, bool countsAsToken = true)
        {
            if (script.Failure is FailureKind.DropConnection or FailureKind.MalformedChunk or FailureKind.Stall && sent >= script.FailAfterChunks)
            {
                await FailAsync(context, script, recorded);
                return false;
            }

            if (paced)
            {
                var due = firstDelay + (rate > 0 ? TimeSpan.FromSeconds(tokenIndex / rate) : TimeSpan.Zero);
                var wait = due - time.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, ct);
                }

                if (countsAsToken)
                {
                    tokenIndex++;
                }
            }

            var chunk = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion.chunk",
                ["created"] = created,
                ["model"] = model,
                ["system_fingerprint"] = null,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["delta"] = delta,
                    ["logprobs"] = null,
                    ["finish_reason"] = finishReason,
                }),
            };
            await WriteEventAsync(response, chunk.ToJsonString(Compact), ct);
            sent++;
            return true;
        }

        // The role chunk goes out with the first token, as OpenAI does.
        if (!await SendAsync(new JsonObject { ["role"] = "assistant", ["content"] = "" }, null, paced: true, countsAsToken: false))
        {
            return;
        }

        var toolIndex = 0;
        var completionTokens = 0;
        foreach (var step in script.Steps)
        {
            switch (step)
            {
                case TextToken token:
                    completionTokens++;
                    if (!await SendAsync(new JsonObject { ["content"] = token.Text }, null, paced: true))
                    {
                        return;
                    }

                    break;
                case ToolCallStep call:
                    var head = new JsonObject
                    {
                        ["index"] = toolIndex,
                        ["id"] = call.Id,
                        ["type"] = "function",
                        ["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = "" },
                    };
                    if (!await SendAsync(new JsonObject { ["tool_calls"] = new JsonArray(head) }, null, paced: true))
                    {
                        return;
                    }

                    for (var at = 0; at < call.Arguments.Length; at += Math.Max(1, call.FragmentLength))
                    {
                        completionTokens++;
                        var fragment = call.Arguments.Substring(at, Math.Min(Math.Max(1, call.FragmentLength), call.Arguments.Length - at));
                        var part = new JsonObject { ["index"] = toolIndex, ["function"] = new JsonObject { ["arguments"] = fragment } };
                        if (!await SendAsync(new JsonObject { ["tool_calls"] = new JsonArray(part) }, null, paced: true))
                        {
                            return;
                        }
                    }

                    toolIndex++;
                    break;
            }
        }

        var finish = script.FinishReason ?? (toolIndex > 0 ? "tool_calls" : "stop");
        if (!await SendAsync([], finish, paced: false))
        {
            return;
        }

        if (includeUsage)
        {
            var usage = new JsonObject
            {
                ["id"] = id,
                ["object"] = "chat.completion.chunk",
                ["created"] = created,
                ["model"] = model,
                ["choices"] = new JsonArray(),
                ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = completionTokens, ["total_tokens"] = 10 + completionTokens },
            };
            await WriteEventAsync(response, usage.ToJsonString(Compact), ct);
        }

        await WriteEventAsync(response, "[DONE]", ct);
    }

    private async Task AnswerWholeAsync(HttpContext context, RecordedRequest recorded, ChatScript script, string id, string model)
    {
        var ct = context.RequestAborted;
        if (script.Failure is FailureKind.DropConnection or FailureKind.MalformedChunk or FailureKind.Stall)
        {
            await FailAsync(context, script, recorded);
            return;
        }

        var delay = script.FirstTokenDelay ?? _options.FirstTokenDelay;
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, _options.TimeProvider, ct);
        }

        var text = string.Concat(script.Steps.OfType<TextToken>().Select(t => t.Text));
        var calls = script.Steps.OfType<ToolCallStep>().ToList();
        var message = new JsonObject { ["role"] = "assistant", ["content"] = text.Length == 0 && calls.Count > 0 ? null : text };
        if (calls.Count > 0)
        {
            message["tool_calls"] = new JsonArray(calls.Select(c => (JsonNode)new JsonObject
            {
                ["id"] = c.Id,
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = c.Name, ["arguments"] = c.Arguments },
            }).ToArray());
        }

        var completion = new JsonObject
        {
            ["id"] = id,
            ["object"] = "chat.completion",
            ["created"] = _options.TimeProvider.GetUtcNow().ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = message,
                ["logprobs"] = null,
                ["finish_reason"] = script.FinishReason ?? (calls.Count > 0 ? "tool_calls" : "stop"),
            }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = 10, ["completion_tokens"] = script.Steps.Count, ["total_tokens"] = 10 + script.Steps.Count },
        };
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(completion.ToJsonString(Compact), ct);
    }

    private static async Task FailAsync(HttpContext context, ChatScript script, RecordedRequest recorded)
    {
        var ct = context.RequestAborted;
        switch (script.Failure)
        {
            case FailureKind.DropConnection:
                await context.Response.Body.FlushAsync(ct);
                context.Abort();
                break;
            case FailureKind.MalformedChunk:
                await WriteEventAsync(context.Response, "{\"id\":\"chatcmpl-broken\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"oops", ct);
                await WriteEventAsync(context.Response, "[DONE]", ct);
                break;
            case FailureKind.Stall:
                await context.Response.Body.FlushAsync(ct);
                recorded.MarkStalled();
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                break;
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, string data, CancellationToken ct)
    {
        await response.WriteAsync("data: " + data + "\n\n", ct);
        await response.Body.FlushAsync(ct);
    }

    private static Task WriteErrorAsync(HttpResponse response, int status, string message, string? code, CancellationToken ct)
    {
        response.StatusCode = status;
        response.ContentType = "application/json";
        var type = status switch
        {
            401 => "invalid_request_error",
            429 => "requests",
            >= 500 => "server_error",
            _ => "invalid_request_error",
        };
        var error = new JsonObject
        {
            ["error"] = new JsonObject { ["message"] = message, ["type"] = type, ["param"] = null, ["code"] = code },
        };
        return response.WriteAsync(error.ToJsonString(Compact), ct);
    }
}
