using System.Text.Json;
using Platform.Render.Thinking;

namespace Platform.Render.Tests.Thinking;

public sealed class ConversationHistoryTests
{
    private static readonly ToolCallRecord Call = new("call_1", "lookup", "{}");

    private static HistoryMessage[] ToolTurn(string id) =>
    [
        HistoryMessage.User("Where is my parcel?", id),
        new(ChatRole.Assistant, "Let me look that up.", [Call], InferenceId: id),
        HistoryMessage.Tool("call_1", "{\"status\":\"in transit\"}", id),
        HistoryMessage.Assistant("Your parcel is in transit and arrives tomorrow morning.", id),
    ];

    [Fact]
    public void What_was_spoken_replaces_the_generated_text_across_a_tool_call()
    {
        var history = new ConversationHistory();
        history.Commit("t1", ToolTurn("t1"));

        history.RecordSpoken("t1", "Let me look  that up. Your parcel is in");

        var messages = history.Snapshot();
        Assert.Equal("Let me look that up.", messages[1].Content);
        Assert.Equal([Call], messages[1].ToolCalls!);
        Assert.Equal("Your parcel is in", messages[3].Content);
    }

    [Fact]
    public void Unspoken_assistant_text_is_removed_but_tool_calls_stay()
    {
        var history = new ConversationHistory();
        history.Commit("t1", ToolTurn("t1"));

        history.RecordSpoken("t1", "");

        Assert.Equal([ChatRole.User, ChatRole.Assistant, ChatRole.Tool], history.Snapshot().Select(m => m.Role));
        Assert.Equal(string.Empty, history.Snapshot()[1].Content);
    }

    [Fact]
    public void Spoken_text_and_discards_recorded_before_the_turn_commits_apply_when_it_does()
    {
        var history = new ConversationHistory();
        history.RecordSpoken("t1", "Let me");
        history.Discard("t2");

        history.Commit("t1", [HistoryMessage.User("Hi", "t1"), HistoryMessage.Assistant("Let me think about it.", "t1")]);
        history.Commit("t2", [HistoryMessage.User("Ignored", "t2"), HistoryMessage.Assistant("Ignored too.", "t2")]);

        Assert.Equal(["Hi", "Let me"], history.Snapshot().Select(m => m.Content));
    }

    [Fact]
    public void Trimming_drops_whole_turns_from_the_front()
    {
        var history = new ConversationHistory(maxMessages: 6);
        history.Commit("t1", ToolTurn("t1"));
        history.Commit("t2", ToolTurn("t2"));

        var messages = history.Snapshot();
        Assert.Equal(4, messages.Count);
        Assert.All(messages, m => Assert.Equal("t2", m.InferenceId));
        Assert.Equal(ChatRole.User, messages[0].Role);
    }

    [Theory]
    [InlineData("""{"role":"tool","tool_call_id":"c1","content":"42"}""", "c1", "42")]
    [InlineData("""{"tool_call_id":"c2","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}""", "c2", "ab")]
    [InlineData("""{"role":"tool","tool_call_id":"c3","content":{"ok":true}}""", "c3", """{"ok":true}""")]
    public void Reads_openai_tool_messages(string json, string id, string content)
    {
        Assert.True(ToolResult.TryParse(JsonDocument.Parse(json).RootElement, out var result, out var problem), problem);
        Assert.Equal(new ToolResult(id, content), result);
    }

    [Theory]
    [InlineData("""{"role":"user","tool_call_id":"c1","content":"x"}""", "role")]
    [InlineData("""{"role":"tool","content":"x"}""", "tool_call_id")]
    [InlineData("""[1,2]""", "object")]
    public void Rejects_what_is_not_a_tool_message(string json, string named)
    {
        Assert.False(ToolResult.TryParse(JsonDocument.Parse(json).RootElement, out _, out var problem));
        Assert.Contains(named, problem);
    }

    [Fact]
    public void Settings_never_print_the_key()
    {
        var settings = new LlmSettings("m", "https://example.test/v1", "sk-very-secret");
        Assert.DoesNotContain("sk-very-secret", settings.ToString());
    }
}
