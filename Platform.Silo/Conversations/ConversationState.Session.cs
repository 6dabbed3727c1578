namespace Platform.Silo.Conversations;

public sealed partial class ConversationState
{
    /// <summary>The next in-call <c>seq</c> a session may use (recorded events below it are duplicates).</summary>
    [Id(110)] public long NextSessionSeq { get; set; }

    /// <summary>The next turn index a resumed session starts from.</summary>
    [Id(111)] public int NextTurnIdx { get; set; }
}
