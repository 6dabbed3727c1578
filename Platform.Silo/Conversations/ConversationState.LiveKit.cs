namespace Platform.Silo.Conversations;

public sealed partial class ConversationState
{
    /// <summary>The conversation's LiveKit room, when it has one (LiveKit configured, not test mode).</summary>
    [Id(100)] public string? LiveKitRoom { get; set; }
}
