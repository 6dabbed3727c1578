using Platform.Render.Sessions;

namespace Platform.Render.Worker.Media;

/// <summary>The in-call commands that act on the engine session; a non-null result is the problem to report.</summary>
internal static class SessionControl
{
    public static void ReportPlayback(ConversationSession session, TimeSpan mediaTime)
    {
        _ = session;
        _ = mediaTime;
    }

    public static string? Respond(ConversationSession session, string text)
    {
        _ = session;
        _ = text;
        return "'conversation.respond' is not supported by this worker yet.";
    }

    public static string? Interrupt(ConversationSession session)
    {
        _ = session;
        return "'conversation.interrupt' is not supported by this worker yet.";
    }

    public static string? SetContext(ConversationSession session, string text, bool append)
    {
        _ = (session, text, append);
        return "Changing the LLM context is not supported by this worker yet.";
    }
}
