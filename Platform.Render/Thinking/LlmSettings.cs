using System.Text.Json;

namespace Platform.Render.Thinking;

/// <summary>
/// The persona's LLM layer and prompt, as the render worker needs them (Render-local until Contracts carries them).
/// </summary>
/// <param name="Model">Model name sent to the endpoint, or <see cref="LlmSettings.RepeatModel"/> for the built-in repeater.</param>
/// <param name="BaseUrl">OpenAI-compatible base URL (e.g. <c>https://api.openai.com/v1</c>); the client appends <c>/chat/completions</c>.</param>
/// <param name="ApiKey">Bearer key; null or empty sends no Authorization header. Never logged.</param>
/// <param name="Headers">Extra HTTP headers sent with every request.</param>
/// <param name="ExtraBody">A JSON object whose properties are merged into the request body (like the Python client's <c>extra_body</c>).</param>
/// <param name="Tools">Tool definitions as JSON: OpenAI's <c>{"type":"function","function":{name, description, parameters}}</c> or the bare function object.</param>
/// <param name="SystemPrompt">The persona's system prompt.</param>
/// <param name="Context">The persona's context.</param>
/// <param name="ConversationalContext">The conversation's own context.</param>
public sealed record LlmSettings(
    string Model,
    string? BaseUrl = null,
    string? ApiKey = null,
    IReadOnlyDictionary<string, string>? Headers = null,
    JsonElement? ExtraBody = null,
    IReadOnlyList<JsonElement>? Tools = null,
    string? SystemPrompt = null,
    string? Context = null,
    string? ConversationalContext = null)
{
    /// <summary>The built-in model that answers by repeating the user's last utterance, without any HTTP call.</summary>
    public const string RepeatModel = "platform/repeat";

    public bool IsRepeat => string.Equals(Model, RepeatModel, StringComparison.OrdinalIgnoreCase);

    /// <summary>The single system message: system prompt, context and conversational context, blank-line separated.</summary>
    public string? ComposeSystemMessage()
    {
        var parts = new[] { SystemPrompt, Context, ConversationalContext }
            .Where(p => !string.IsNullOrWhiteSpace(p))
            .Select(p => p!.Trim())
            .ToList();
        return parts.Count == 0 ? null : string.Join("\n\n", parts);
    }

    /// <summary>Hides the key when a record is printed.</summary>
    public override string ToString() => $"LlmSettings {{ Model = {Model}, BaseUrl = {BaseUrl}, ApiKey = {(string.IsNullOrEmpty(ApiKey) ? "none" : "***")} }}";
}

/// <summary>Timeouts and fallbacks of the thinking stage. Times are measured on the session's <see cref="TimeProvider"/>.</summary>
public sealed class LlmOptions
{
    public const string Section = "Render:Llm";

    /// <summary>From sending the request to the first content or tool-call delta. Default 5 s.</summary>
    public TimeSpan FirstTokenTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest gap between two chunks once streaming. Default 5 s.</summary>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a turn waits for the results of its tool calls. Default 20 s.</summary>
    public TimeSpan ToolResultTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Most LLM requests in one turn (each tool round is one). Default 4.</summary>
    public int MaxToolRounds { get; set; } = 4;

    /// <summary>History messages kept (oldest dropped first, always from a user message on). Default 60.</summary>
    public int MaxHistoryMessages { get; set; } = 60;

    /// <summary>Spoken when the LLM fails (down, slow, rate-limited, erroring, malformed).</summary>
    public string FallbackText { get; set; } = "Sorry, I'm having trouble thinking right now. Could you say that again?";

    /// <summary>Spoken when a tool result does not arrive in time.</summary>
    public string ToolTimeoutText { get; set; } = "Sorry, I couldn't finish that just now.";

    /// <summary>What <c>platform/repeat</c> says when it heard nothing.</summary>
    public string RepeatEmptyText { get; set; } = "I didn't catch that.";

    /// <summary>How answers are cut for TTS; the first clause may end at its first comma (speech starts sooner).</summary>
    public ClauseSplitterOptions Clauses { get; set; } = new() { FirstClauseMinChars = 4 };
}
