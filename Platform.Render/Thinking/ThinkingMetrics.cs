using System.Diagnostics.Metrics;

namespace Platform.Render.Thinking;

/// <summary>
/// The thinking stage's instruments, for OpenTelemetry (<c>AddMeter(ThinkingMetrics.MeterName)</c>). Latencies are
/// from the start of the LLM turn, on the session's clock; the per-turn numbers also travel in <see cref="LlmTurnEnded"/>.
/// </summary>
public static class ThinkingMetrics
{
    public const string MeterName = "Platform.Render.Thinking";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> FirstToken = Meter.CreateHistogram<double>(
        "platform.render.llm.first_token", "ms", "Time from sending the LLM request to its first token.");

    private static readonly Histogram<double> FirstClause = Meter.CreateHistogram<double>(
        "platform.render.llm.first_clause", "ms", "Time from sending the LLM request to the first complete clause.");

    private static readonly Counter<long> Turns = Meter.CreateCounter<long>(
        "platform.render.llm.turns", "{turn}", "LLM turns by outcome.");

    private static readonly Counter<long> Errors = Meter.CreateCounter<long>(
        "platform.render.llm.errors", "{error}", "LLM failures by kind.");

    internal static void Record(LlmTurnEnded ended, string model)
    {
        var tags = new KeyValuePair<string, object?>("model", model);
        if (ended.Metrics.FirstToken is { } token)
        {
            FirstToken.Record(token.TotalMilliseconds, tags);
        }

        if (ended.Metrics.FirstClause is { } clause)
        {
            FirstClause.Record(clause.TotalMilliseconds, tags);
        }

        Turns.Add(1, tags, new KeyValuePair<string, object?>("outcome", ended.Outcome.ToString()));
    }

    internal static void Record(LlmError error) => Errors.Add(1, new KeyValuePair<string, object?>("kind", error.Kind.ToString()));
}
