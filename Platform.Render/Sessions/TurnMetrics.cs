using System.Diagnostics.Metrics;

namespace Platform.Render.Sessions;

/// <summary>
/// Latencies of one replica turn in media time, each from the true end of the user's speech (end of the last voiced
/// VAD frame). Null when the step did not happen (interrupted, echo turn).
/// </summary>
public sealed record TurnMetrics(
    int TurnIdx,
    string InferenceId,
    TimeSpan UserSpeechEnd,
    TimeSpan? FloorDecision,
    TimeSpan? AsrFinal,
    TimeSpan? LlmFirstToken,
    TimeSpan? FirstClauseAudio,
    TimeSpan? FirstMouthFrame,
    bool Speculative);

/// <summary>The session instruments for OpenTelemetry (<c>AddMeter(SessionMetrics.MeterName)</c>).</summary>
public static class SessionMetrics
{
    public const string MeterName = "Platform.Render.Sessions";

    private static readonly Meter Meter = new(MeterName);
    private static readonly Histogram<double> Floor = Meter.CreateHistogram<double>("platform.render.turn.floor_decision", "ms", "End of user speech to the floor decision.");
    private static readonly Histogram<double> Asr = Meter.CreateHistogram<double>("platform.render.turn.asr_final", "ms", "End of user speech to the ASR final.");
    private static readonly Histogram<double> Token = Meter.CreateHistogram<double>("platform.render.turn.llm_first_token", "ms", "End of user speech to the LLM's first token.");
    private static readonly Histogram<double> Audio = Meter.CreateHistogram<double>("platform.render.turn.first_clause_audio", "ms", "End of user speech to the first replica audio.");
    private static readonly Histogram<double> Mouth = Meter.CreateHistogram<double>("platform.render.turn.first_mouth_frame", "ms", "End of user speech to the first video frame with the mouth moving.");
    private static readonly Counter<long> Interruptions = Meter.CreateCounter<long>("platform.render.turn.interruptions", "{interruption}", "Replica turns cut by barge-in.");
    private static readonly Counter<long> Errors = Meter.CreateCounter<long>("platform.render.session.errors", "{error}", "Error events by code.");

    internal static void Record(TurnMetrics m)
    {
        Put(Floor, m.FloorDecision);
        Put(Asr, m.AsrFinal);
        Put(Token, m.LlmFirstToken);
        Put(Audio, m.FirstClauseAudio);
        Put(Mouth, m.FirstMouthFrame);
    }

    private static readonly Counter<long> Discarded = Meter.CreateCounter<long>("platform.render.turn.speculations_discarded", "{turn}", "Speculative LLM turns dropped because the user went on.");

    internal static void SpeculationDiscarded() => Discarded.Add(1);

    internal static void Interrupted() => Interruptions.Add(1);

    internal static void Error(string code) => Errors.Add(1, new KeyValuePair<string, object?>("code", code));

    private static void Put(Histogram<double> h, TimeSpan? v)
    {
        if (v is { } value)
        {
            h.Record(value.TotalMilliseconds);
        }
    }
}
