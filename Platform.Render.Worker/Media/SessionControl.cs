using Platform.Render.Sessions;

namespace Platform.Render.Worker.Media;

/// <summary>The in-call commands that act on the engine session; a non-null result is the problem to report.</summary>
internal static class SessionControl
{
    public static void ReportPlayback(ConversationSession session, TimeSpan mediaTime) => session.ReportPlaybackPosition(mediaTime);

    public static async ValueTask<string?> RespondAsync(ConversationSession session, string text)
    {
        if (session.Options.Mode == SessionMode.Echo)
        {
            return "'conversation.respond' needs an LLM; this persona runs in echo mode (use 'conversation.echo').";
        }
        await session.RespondAsync(text).ConfigureAwait(false);
        return null;
    }

    public static ValueTask InterruptAsync(ConversationSession session) => session.InterruptAsync();

    public static string? SetContext(ConversationSession session, string text, bool append)
    {
        if (session.Options.Mode == SessionMode.Echo)
        {
            return "The LLM context cannot change: this persona runs in echo mode.";
        }
        session.SetContext(text, append);
        return null;
    }
}
