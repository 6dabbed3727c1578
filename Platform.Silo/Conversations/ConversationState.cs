using Platform.Contracts;

namespace Platform.Silo.Conversations;

[GenerateSerializer]
public sealed partial class ConversationState
{
    [Id(0)] public string? DocumentJson { get; set; }
    [Id(1)] public string Status { get; set; } = ConversationStatus.Active;
    [Id(2)] public string? ShutdownReason { get; set; }
    [Id(3)] public DateTimeOffset CreatedAt { get; set; }
    [Id(4)] public DateTimeOffset UpdatedAt { get; set; }
    [Id(5)] public DateTimeOffset? EndedAt { get; set; }
    [Id(6)] public string Url { get; set; } = "";
    [Id(7)] public string? MeetingTokenHash { get; set; }
    [Id(8)] public ReplicaId? Replica { get; set; }
    [Id(9)] public PersonaId? Persona { get; set; }
    [Id(10)] public List<string> Warnings { get; set; } = [];
    [Id(11)] public ConversationLimits Limits { get; set; } = new(3600, 60, 300);
    [Id(12)] public bool TestMode { get; set; }
    [Id(13)] public PresenceRecord Presence { get; set; } = new();
    [Id(14)] public long NextSeq { get; set; } = 1;
}

/// <summary>The limits in seconds. A participant_left_timeout of 0 ends the call as soon as the last participant leaves.</summary>
[GenerateSerializer, Immutable]
public sealed record ConversationLimits(
    [property: Id(0)] int MaxCallDuration,
    [property: Id(1)] int ParticipantLeftTimeout,
    [property: Id(2)] int ParticipantAbsentTimeout);

/// <summary>
/// Who is in the call, on the grain's clock. The timeouts read it and billing will: participant time is the union of
/// the intervals in which at least one participant was present.
/// </summary>
[GenerateSerializer]
public sealed class PresenceRecord
{
    [Id(0)] public List<string> Participants { get; set; } = [];
    [Id(1)] public DateTimeOffset? FirstParticipantJoinedAt { get; set; }
    [Id(2)] public DateTimeOffset? LastParticipantLeftAt { get; set; }
    [Id(3)] public string? Replica { get; set; }
    [Id(4)] public DateTimeOffset? ReplicaJoinedAt { get; set; }
}

/// <summary>The deadline rules, pure: when does a conversation in <paramref name="s"/> end on its own, and why.</summary>
public static class ConversationDeadlines
{
    public static (DateTimeOffset At, string Reason)? Next(ConversationState s)
    {
        if (s.Status != ConversationStatus.Active)
        {
            return null;
        }
        var best = (At: s.CreatedAt.AddSeconds(s.Limits.MaxCallDuration), Reason: ShutdownReasons.MaxCallDuration);
        void Consider(DateTimeOffset at, string reason)
        {
            if (at < best.At)
            {
                best = (at, reason);
            }
        }
        var p = s.Presence;
        if (p.FirstParticipantJoinedAt is null)
        {
            Consider(s.CreatedAt.AddSeconds(s.Limits.ParticipantAbsentTimeout), ShutdownReasons.ParticipantAbsentTimeout);
        }
        if (p.FirstParticipantJoinedAt is not null && p.Participants.Count == 0 && p.LastParticipantLeftAt is { } left)
        {
            Consider(left.AddSeconds(s.Limits.ParticipantLeftTimeout), ShutdownReasons.ParticipantLeftTimeout);
        }
        return best;
    }
}
