using Platform.Contracts;
using Platform.Silo.Conversations;

namespace Platform.Silo.Tests.Conversations;

public sealed class ConversationDeadlinesTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static ConversationState State(int max = 3600, int left = 60, int absent = 300) =>
        new() { DocumentJson = "{}", CreatedAt = T0, Limits = new ConversationLimits(max, left, absent) };

    [Fact]
    public void Nobody_joined_means_the_absent_timeout()
    {
        Assert.Equal((T0.AddSeconds(300), ShutdownReasons.ParticipantAbsentTimeout), ConversationDeadlines.Next(State()));
    }

    [Fact]
    public void Max_duration_wins_when_it_is_sooner()
    {
        Assert.Equal((T0.AddSeconds(100), ShutdownReasons.MaxCallDuration), ConversationDeadlines.Next(State(max: 100)));
    }

    [Fact]
    public void While_someone_is_present_only_max_duration_applies()
    {
        var s = State();
        s.Presence.Participants.Add("u");
        s.Presence.FirstParticipantJoinedAt = T0.AddSeconds(10);
        Assert.Equal((T0.AddSeconds(3600), ShutdownReasons.MaxCallDuration), ConversationDeadlines.Next(s));
    }

    [Fact]
    public void After_the_last_leaves_the_left_timeout_counts_from_the_leave()
    {
        var s = State(left: 0);
        s.Presence.FirstParticipantJoinedAt = T0.AddSeconds(10);
        s.Presence.LastParticipantLeftAt = T0.AddSeconds(50);
        Assert.Equal((T0.AddSeconds(50), ShutdownReasons.ParticipantLeftTimeout), ConversationDeadlines.Next(s));
    }

    [Fact]
    public void An_ended_conversation_has_no_deadline()
    {
        var s = State();
        s.Status = ConversationStatus.Ended;
        Assert.Null(ConversationDeadlines.Next(s));
    }
}
