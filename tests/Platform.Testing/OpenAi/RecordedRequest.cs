using System.Text.Json.Nodes;

namespace Platform.Testing.OpenAi;

/// <summary>How a request's exchange ended, as the server saw it.</summary>
public enum RequestEnd
{
    /// <summary>The server sent its whole answer (or its scripted failure).</summary>
    Completed,
    /// <summary>The client closed the connection before the answer was complete.</summary>
    ClientAborted,
}

/// <summary>One request the server received, with everything a test may assert on.</summary>
public sealed class RecordedRequest
{
    private readonly TaskCompletionSource<RequestEnd> _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal RecordedRequest(int index, string method, string path, IReadOnlyDictionary<string, string> headers, string bodyText)
    {
        Index = index;
        Method = method;
        Path = path;
        Headers = headers;
        BodyText = bodyText;
        try
        {
            Body = JsonNode.Parse(bodyText) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            Body = null;
        }
    }

    public int Index { get; }

    /// <summary>Kestrel's id of the TCP connection the request came on (the same id: a reused pooled connection).</summary>
    public string ConnectionId { get; init; } = "";

    public string Method { get; }

    public string Path { get; }

    /// <summary>Request headers, case-insensitive names; repeated headers joined with ", ".</summary>
    public IReadOnlyDictionary<string, string> Headers { get; }

    public string BodyText { get; }

    /// <summary>The parsed JSON body, or null when it was not a JSON object.</summary>
    public JsonObject? Body { get; }

    public string? Model => Body?["model"]?.GetValue<string>();

    public bool Stream => Body?["stream"]?.GetValue<bool>() ?? false;

    public JsonArray Messages => Body?["messages"] as JsonArray ?? [];

    public JsonArray Tools => Body?["tools"] as JsonArray ?? [];

    /// <summary>The bearer token of the Authorization header, or null.</summary>
    public string? BearerToken =>
        Headers.TryGetValue("Authorization", out var value) && value.StartsWith("Bearer ", StringComparison.Ordinal) ? value[7..] : null;

    /// <summary>Completes when the exchange is over: answered completely, or abandoned by the client.</summary>
    public Task<RequestEnd> Ended => _ended.Task;

    /// <summary>Completes when a <see cref="FailureKind.Stall"/> script has sent its last chunk and stopped.</summary>
    public Task Stalled => _stalled.Task;

    internal void End(RequestEnd end) => _ended.TrySetResult(end);

    internal void MarkStalled() => _stalled.TrySetResult();
}

/// <summary>What a responder sees of a request.</summary>
public sealed record ChatRequest(RecordedRequest Recorded)
{
    public string? Model => Recorded.Model;

    public JsonArray Messages => Recorded.Messages;

    public JsonArray Tools => Recorded.Tools;

    public IReadOnlyDictionary<string, string> Headers => Recorded.Headers;

    public JsonObject Body => Recorded.Body ?? [];

    private static readonly HashSet<string> StandardFields =
    [
        "model", "messages", "stream", "stream_options", "tools", "tool_choice", "parallel_tool_calls", "temperature", "top_p",
        "max_tokens", "max_completion_tokens", "stop", "n", "presence_penalty", "frequency_penalty", "logit_bias", "logprobs",
        "top_logprobs", "user", "seed", "response_format", "metadata", "store", "service_tier", "reasoning_effort",
    ];

    /// <summary>Body fields that are not part of the Chat Completions request schema (what extra_body adds).</summary>
    public IReadOnlyDictionary<string, JsonNode?> ExtraFields =>
        Body.Where(p => !StandardFields.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);

    /// <summary>The text content of the last message with the given role, or null.</summary>
    public string? LastContent(string role)
    {
        for (var i = Messages.Count - 1; i >= 0; i--)
        {
            if (Messages[i] is JsonObject m && (string?)m["role"] == role)
            {
                return ContentText(m["content"]);
            }
        }

        return null;
    }

    /// <summary>Content as text whether it is a string or an array of text parts.</summary>
    public static string? ContentText(JsonNode? content) => content switch
    {
        null => null,
        JsonValue v => v.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => (string?)p?["text"] ?? string.Empty)),
        _ => content.ToJsonString(),
    };
}
