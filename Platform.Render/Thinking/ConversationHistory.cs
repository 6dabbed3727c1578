using System.Text.Json;

namespace Platform.Render.Thinking;

public enum ChatRole
{
    User,
    Assistant,
    Tool,
}

/// <summary>A tool call the assistant made, with its complete JSON arguments.</summary>
public sealed record ToolCallRecord(string Id, string Name, string Arguments);

/// <summary>
/// One message of the conversation as the LLM sees it. Assistant messages may carry tool calls; tool messages carry
/// the id of the call they answer. <see cref="InferenceId"/> ties a message to the turn that produced it.
/// </summary>
public sealed record HistoryMessage(
    ChatRole Role,
    string? Content,
    IReadOnlyList<ToolCallRecord>? ToolCalls = null,
    string? ToolCallId = null,
    string? InferenceId = null)
{
    public static HistoryMessage User(string text, string? inferenceId = null) => new(ChatRole.User, text, InferenceId: inferenceId);

    public static HistoryMessage Assistant(string text, string? inferenceId = null) => new(ChatRole.Assistant, text, InferenceId: inferenceId);

    public static HistoryMessage Tool(string toolCallId, string content, string? inferenceId = null) => new(ChatRole.Tool, content, ToolCallId: toolCallId, InferenceId: inferenceId);
}

/// <summary>A tool's answer: the OpenAI tool message <c>{"role":"tool","tool_call_id":"…","content":"…"}</c>.</summary>
public sealed record ToolResult(string ToolCallId, string Content)
{
    /// <summary>Reads an OpenAI tool message (content as a string, or an array of text parts).</summary>
    public static bool TryParse(JsonElement message, out ToolResult? result, out string? problem)
    {
        result = null;
        problem = null;
        if (message.ValueKind != JsonValueKind.Object)
        {
            problem = "a tool result must be a JSON object";
            return false;
        }

        if (message.TryGetProperty("role", out var role) && role.ValueKind == JsonValueKind.String && role.GetString() != "tool")
        {
            problem = "role must be \"tool\"";
            return false;
        }

        if (!message.TryGetProperty("tool_call_id", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString()))
        {
            problem = "tool_call_id is required";
            return false;
        }

        string content;
        if (!message.TryGetProperty("content", out var c) || c.ValueKind == JsonValueKind.Null)
        {
            content = string.Empty;
        }
        else if (c.ValueKind == JsonValueKind.String)
        {
            content = c.GetString()!;
        }
        else if (c.ValueKind == JsonValueKind.Array)
        {
            content = string.Concat(c.EnumerateArray().Select(p => p.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : string.Empty));
        }
        else
        {
            content = c.GetRawText();
        }

        result = new ToolResult(id.GetString()!, content);
        return true;
    }
}

/// <summary>
/// The conversation's messages (user, assistant, tool), thread-safe. A turn's messages are committed together when
/// the turn ends; an interrupted turn's assistant text is then replaced by what was actually spoken
/// (<see cref="RecordSpoken"/>), and a discarded speculative turn leaves no trace (<see cref="Discard"/>).
/// </summary>
public sealed class ConversationHistory(int maxMessages = 60)
{
    private readonly object _gate = new();
    private readonly List<HistoryMessage> _messages = [];
    private readonly HashSet<string> _discarded = [];
    private readonly Dictionary<string, string> _spokenBeforeCommit = [];

    public IReadOnlyList<HistoryMessage> Snapshot()
    {
        lock (_gate)
        {
            return [.. _messages];
        }
    }

    /// <summary>Adds messages outside of any turn (e.g. a greeting the replica spoke, or restored history).</summary>
    public void Add(params HistoryMessage[] messages) => Commit(null, messages);

    internal void Commit(string? inferenceId, IReadOnlyList<HistoryMessage> messages)
    {
        lock (_gate)
        {
            if (inferenceId is not null && _discarded.Remove(inferenceId))
            {
                return;
            }

            _messages.AddRange(messages);
            if (inferenceId is not null && _spokenBeforeCommit.Remove(inferenceId, out var spoken))
            {
                ReplaceSpoken(inferenceId, spoken);
            }

            Trim();
        }
    }

    /// <summary>
    /// Replaces the assistant text of turn <paramref name="inferenceId"/> by what was actually spoken before an
    /// interruption. Text the turn produced before a tool call stays when it was spoken; unspoken text goes.
    /// Works whether the turn has already been committed or not.
    /// </summary>
    public void RecordSpoken(string inferenceId, string spokenText)
    {
        lock (_gate)
        {
            if (!_messages.Any(m => m.InferenceId == inferenceId && m.Role == ChatRole.Assistant))
            {
                _spokenBeforeCommit[inferenceId] = spokenText;
                return;
            }

            ReplaceSpoken(inferenceId, spokenText);
        }
    }

    /// <summary>Removes every message of turn <paramref name="inferenceId"/>, now or when it commits.</summary>
    public void Discard(string inferenceId)
    {
        lock (_gate)
        {
            if (_messages.RemoveAll(m => m.InferenceId == inferenceId) == 0)
            {
                _discarded.Add(inferenceId);
            }

            _spokenBeforeCommit.Remove(inferenceId);
        }
    }

    private void ReplaceSpoken(string inferenceId, string spokenText)
    {
        var remaining = Collapse(spokenText);
        for (var i = 0; i < _messages.Count; i++)
        {
            var m = _messages[i];
            if (m.InferenceId != inferenceId || m.Role != ChatRole.Assistant || string.IsNullOrEmpty(m.Content))
            {
                continue;
            }

            var content = Collapse(m.Content);
            if (remaining.Length > 0 && remaining.StartsWith(content, StringComparison.Ordinal))
            {
                remaining = remaining[content.Length..].TrimStart();
                continue;
            }

            _messages[i] = m with { Content = remaining };
            remaining = string.Empty;
        }

        _messages.RemoveAll(m => m.InferenceId == inferenceId && m.Role == ChatRole.Assistant
            && string.IsNullOrEmpty(m.Content) && (m.ToolCalls is null || m.ToolCalls.Count == 0));
    }

    private void Trim()
    {
        if (_messages.Count <= maxMessages)
        {
            return;
        }

        // Drop from the front, then up to the next user message so no tool message loses its assistant call.
        var drop = _messages.Count - maxMessages;
        while (drop < _messages.Count && _messages[drop].Role != ChatRole.User)
        {
            drop++;
        }

        _messages.RemoveRange(0, drop);
    }

    private static string Collapse(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
