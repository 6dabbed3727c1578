namespace Platform.Render.Perception;

/// <summary>Persona setting <c>turn_taking_patience</c>: how long the replica waits before taking the floor.</summary>
public enum TurnTakingPatience { Low, Medium, High }

/// <summary>Persona setting <c>replica_interruptibility</c>: how easily user speech stops the replica.</summary>
public enum ReplicaInterruptibility { Low, Medium, High }

/// <summary>What the user's words so far sound like, from the transcript alone.</summary>
public enum UtteranceShape
{
    /// <summary>No words recognised (yet).</summary>
    Unknown,

    /// <summary>Ends in a filler, conjunction, article, preposition, auxiliary or comma: more is coming.</summary>
    Incomplete,

    /// <summary>A complete-looking statement.</summary>
    Statement,

    /// <summary>A complete-looking question: the user wants an answer now.</summary>
    Question,
}

public sealed record TurnTakingOptions
{
    public TurnTakingPatience Patience { get; init; } = TurnTakingPatience.Medium;

    public ReplicaInterruptibility Interruptibility { get; init; } = ReplicaInterruptibility.Medium;

    /// <summary>
    /// Silence after the last voiced frame before the floor is taken, per patience and shape. Incomplete
    /// fragments wait several times longer than statements; questions yield soonest.
    /// </summary>
    public TimeSpan RequiredSilence(UtteranceShape shape) => (Patience, shape) switch
    {
        (TurnTakingPatience.Low, UtteranceShape.Question) => Ms(100),
        (TurnTakingPatience.Low, UtteranceShape.Statement) => Ms(180),
        (TurnTakingPatience.Low, UtteranceShape.Unknown) => Ms(400),
        (TurnTakingPatience.Low, UtteranceShape.Incomplete) => Ms(1_500),
        (TurnTakingPatience.Medium, UtteranceShape.Question) => Ms(150),
        (TurnTakingPatience.Medium, UtteranceShape.Statement) => Ms(250),
        (TurnTakingPatience.Medium, UtteranceShape.Unknown) => Ms(500),
        (TurnTakingPatience.Medium, UtteranceShape.Incomplete) => Ms(2_000),
        (TurnTakingPatience.High, UtteranceShape.Question) => Ms(250),
        (TurnTakingPatience.High, UtteranceShape.Statement) => Ms(450),
        (TurnTakingPatience.High, UtteranceShape.Unknown) => Ms(800),
        (TurnTakingPatience.High, UtteranceShape.Incomplete) => Ms(2_800),
        _ => Ms(500),
    };

    /// <summary>User speech needed, while the replica talks, before it is interrupted.</summary>
    public TimeSpan BargeInSpeech => Interruptibility switch
    {
        ReplicaInterruptibility.High => Ms(200),
        ReplicaInterruptibility.Medium => Ms(500),
        _ => Ms(1_000),
    };

    /// <summary>At low interruptibility, this much speech interrupts even when the transcript is unclear.</summary>
    public TimeSpan BargeInSpeechWithoutWords => Interruptibility switch
    {
        ReplicaInterruptibility.High => Ms(200),
        ReplicaInterruptibility.Medium => Ms(900),
        _ => Ms(2_000),
    };

    /// <summary>Recognised words (not backchannels like "yeah", "uh huh") needed to interrupt.</summary>
    public int BargeInWords => Interruptibility switch
    {
        ReplicaInterruptibility.High => 0,
        ReplicaInterruptibility.Medium => 1,
        _ => 2,
    };

    private static TimeSpan Ms(int ms) => TimeSpan.FromMilliseconds(ms);
}
