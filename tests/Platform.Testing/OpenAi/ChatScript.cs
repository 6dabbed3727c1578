namespace Platform.Testing.OpenAi;

/// <summary>One piece of a scripted assistant answer: a content token or a tool call.</summary>
public abstract record ScriptStep;

/// <summary>A content delta, sent as one chunk (one "token").</summary>
public sealed record TextToken(string Text) : ScriptStep;

/// <summary>
/// A tool call, streamed the way OpenAI does: a first chunk with index, id, type and function name (empty
/// arguments), then the arguments in fragments of <paramref name="FragmentLength"/> characters, one chunk each.
/// </summary>
public sealed record ToolCallStep(string Id, string Name, string Arguments, int FragmentLength = 8) : ScriptStep;

/// <summary>How a scripted response misbehaves.</summary>
public enum FailureKind
{
    None,
    /// <summary>Answer with an HTTP error status and an OpenAI error body before any chunk.</summary>
    HttpStatus,
    /// <summary>Abort the connection after <see cref="ChatScript.FailAfterChunks"/> chunks.</summary>
    DropConnection,
    /// <summary>Send a chunk that is not valid JSON after <see cref="ChatScript.FailAfterChunks"/> chunks.</summary>
    MalformedChunk,
    /// <summary>Stop sending (without closing) after <see cref="ChatScript.FailAfterChunks"/> chunks, until the client goes away.</summary>
    Stall,
}

/// <summary>
/// What the server answers to one request: the assistant's tokens and tool calls, timing, and an optional failure.
/// Build with the static helpers and the <c>With*</c>/<c>*After</c> methods.
/// </summary>
public sealed record ChatScript
{
    public IReadOnlyList<ScriptStep> Steps { get; init; } = [];

    /// <summary>Delay before the first chunk (after the response headers); null = the server default.</summary>
    public TimeSpan? FirstTokenDelay { get; init; }

    /// <summary>Chunks per second after the first; null = the server default; 0 or less = as fast as possible.</summary>
    public double? TokensPerSecond { get; init; }

    /// <summary>The finish_reason of the last chunk; null = "tool_calls" when the script has tool calls, else "stop".</summary>
    public string? FinishReason { get; init; }

    public FailureKind Failure { get; init; }

    /// <summary>For mid-stream failures: how many chunks (counting the initial role chunk) go out first.</summary>
    public int FailAfterChunks { get; init; }

    public int Status { get; init; } = 200;

    public string? ErrorMessage { get; init; }

    public string? ErrorCode { get; init; }

    /// <summary>Extra response headers (e.g. Retry-After).</summary>
    public IReadOnlyDictionary<string, string> ResponseHeaders { get; init; } = new Dictionary<string, string>();

    /// <summary>A reply streamed word by word (each word with its leading space is one token).</summary>
    public static ChatScript Reply(string text) => new() { Steps = Tokenize(text).Select(t => (ScriptStep)new TextToken(t)).ToList() };

    /// <summary>A reply whose tokens are given exactly.</summary>
    public static ChatScript Tokens(params string[] tokens) => new() { Steps = tokens.Select(t => (ScriptStep)new TextToken(t)).ToList() };

    /// <summary>A reply that only calls a tool.</summary>
    public static ChatScript ToolCall(string id, string name, string arguments) => new ChatScript().WithToolCall(id, name, arguments);

    public static ChatScript HttpError(int status, string message = "The server had an error while processing your request.", string? code = null) =>
        new() { Failure = FailureKind.HttpStatus, Status = status, ErrorMessage = message, ErrorCode = code };

    public static ChatScript RateLimited(TimeSpan retryAfter) =>
        HttpError(429, "Rate limit reached for requests.", "rate_limit_exceeded") with
        {
            ResponseHeaders = new Dictionary<string, string> { ["Retry-After"] = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };

    public static ChatScript Unauthorized() => HttpError(401, "Incorrect API key provided.", "invalid_api_key");

    public ChatScript WithToolCall(string id, string name, string arguments) => this with { Steps = [.. Steps, new ToolCallStep(id, name, arguments)] };

    public ChatScript WithTiming(TimeSpan firstTokenDelay, double tokensPerSecond) => this with { FirstTokenDelay = firstTokenDelay, TokensPerSecond = tokensPerSecond };

    public ChatScript DropAfter(int chunks) => this with { Failure = FailureKind.DropConnection, FailAfterChunks = chunks };

    public ChatScript MalformedAfter(int chunks) => this with { Failure = FailureKind.MalformedChunk, FailAfterChunks = chunks };

    public ChatScript StallAfter(int chunks) => this with { Failure = FailureKind.Stall, FailAfterChunks = chunks };

    /// <summary>Splits text into word tokens, each carrying its leading whitespace, like an LLM tokenizer roughly does.</summary>
    public static IEnumerable<string> Tokenize(string text)
    {
        var start = 0;
        for (var i = 1; i <= text.Length; i++)
        {
            if (i == text.Length || (char.IsWhiteSpace(text[i]) && !char.IsWhiteSpace(text[i - 1])))
            {
                yield return text[start..i];
                start = i;
            }
        }
    }
}
