using System.Runtime.CompilerServices;

namespace Platform.Render.Thinking;

/// <summary>A piece of a streamed answer.</summary>
internal abstract record LlmDelta;

internal sealed record TextDelta(string Text) : LlmDelta;

/// <summary>A fragment of tool call number <paramref name="Index"/>: the first carries id and name, the rest argument text.</summary>
internal sealed record ToolCallDelta(int Index, string? Id, string? Name, string? Arguments) : LlmDelta;

internal sealed record FinishDelta(string Reason) : LlmDelta;

/// <summary>Streams one answer to a prompt: the system message (null for none), then the history.</summary>
internal interface ILlmBackend
{
    /// <summary>Names the backend in events: the model.</summary>
    string Model { get; }

    bool IsBuiltIn { get; }

    IAsyncEnumerable<LlmDelta> StreamAsync(string? systemMessage, IReadOnlyList<HistoryMessage> messages, CancellationToken cancellationToken);

    /// <summary>Gets ready for the first turn before the user speaks; never throws (a failed warm-up changes nothing).</summary>
    Task WarmUpAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary><c>platform/repeat</c>: answers with the user's last utterance. No network.</summary>
internal sealed class RepeatBackend(string emptyText) : ILlmBackend
{
    public string Model => LlmSettings.RepeatModel;

    public bool IsBuiltIn => true;

    public async IAsyncEnumerable<LlmDelta> StreamAsync(string? systemMessage, IReadOnlyList<HistoryMessage> messages, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        cancellationToken.ThrowIfCancellationRequested();
        var heard = messages.LastOrDefault(m => m.Role == ChatRole.User)?.Content;
        var text = string.IsNullOrWhiteSpace(heard) ? emptyText : heard.Trim();
        foreach (var token in Words(text))
        {
            yield return new TextDelta(token);
        }

        yield return new FinishDelta("stop");
    }

    private static IEnumerable<string> Words(string text)
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

/// <summary>A backend that could not be built from the settings: every turn fails with a configuration error.</summary>
internal sealed class MisconfiguredBackend(string model, string problem) : ILlmBackend
{
    public string Model => model;

    public bool IsBuiltIn => false;

    public string Problem => problem;

    public IAsyncEnumerable<LlmDelta> StreamAsync(string? systemMessage, IReadOnlyList<HistoryMessage> messages, CancellationToken cancellationToken) =>
        throw new LlmConfigurationException(problem);
}

internal sealed class LlmConfigurationException(string message) : Exception(message);
