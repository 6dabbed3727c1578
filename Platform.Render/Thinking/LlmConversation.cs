using System.ClientModel;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Platform.Render.Thinking;

/// <summary>
/// The thinking stage of one conversation: turns the user's utterances into a stream of speakable clauses, tool
/// calls and errors, keeps the conversation history, and never lets an exception escape. One turn runs at a time:
/// when a turn is interrupted, cancel it, let its enumeration end (it ends promptly with <see cref="LlmTurnEnded"/>),
/// call <see cref="RecordSpoken"/>, then start the next.
/// </summary>
public sealed partial class LlmConversation
{
    private readonly ILlmBackend _backend;
    private readonly LlmOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> _pendingTools = new(StringComparer.Ordinal);

    public LlmConversation(
        LlmSettings settings,
        LlmOptions? options = null,
        TimeProvider? timeProvider = null,
        ILogger<LlmConversation>? logger = null,
        HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Settings = settings;
        _options = options ?? new LlmOptions();
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        History = new ConversationHistory(_options.MaxHistoryMessages);
        _conversationalContext = settings.ConversationalContext;
        _backend = settings.IsRepeat ? new RepeatBackend(_options.RepeatEmptyText) : OpenAiChatBackend.Create(settings, httpClient);
    }

    public LlmSettings Settings { get; }

    /// <summary>Prepares the first turn (compiled client code, an open connection to the endpoint); never throws.</summary>
    public Task WarmUpAsync(CancellationToken cancellationToken = default) => _backend.WarmUpAsync(cancellationToken);

    private readonly Lock _contextGate = new();
    private string? _conversationalContext;

    /// <summary>The conversation's own context as it stands now (starts as <see cref="LlmSettings.ConversationalContext"/>).</summary>
    public string? ConversationalContext
    {
        get
        {
            lock (_contextGate)
            {
                return _conversationalContext;
            }
        }
    }

    /// <summary>
    /// Replaces (<c>conversation.overwrite_llm_context</c>) or extends (<c>conversation.append_llm_context</c>) the
    /// conversational context; requests started from now on carry it in the system message. Thread-safe.
    /// </summary>
    public void SetConversationalContext(string? context, bool append)
    {
        lock (_contextGate)
        {
            var add = context?.Trim();
            _conversationalContext = !append || string.IsNullOrWhiteSpace(_conversationalContext)
                ? (string.IsNullOrWhiteSpace(add) ? null : add)
                : string.IsNullOrWhiteSpace(add) ? _conversationalContext : _conversationalContext.TrimEnd() + "\n" + add;
        }
    }

    /// <summary>The system message of the next request: system prompt, context and the current conversational context.</summary>
    public string? SystemMessage => (Settings with { ConversationalContext = ConversationalContext }).ComposeSystemMessage();

    public ConversationHistory History { get; }

    /// <summary>The model named in events (<c>platform/repeat</c> for the built-in repeater).</summary>
    public string Model => _backend.Model;

    /// <summary>
    /// Answers <paramref name="userText"/>: <see cref="LlmTurnStarted"/>, then clauses, tool calls and errors as they
    /// come, and always a final <see cref="LlmTurnEnded"/>. Cancelling <paramref name="cancellationToken"/> aborts the
    /// HTTP request and ends the stream with outcome <see cref="LlmTurnOutcome.Interrupted"/>.
    /// </summary>
    public IAsyncEnumerable<ThinkingEvent> RespondAsync(string userText, int turnIdx, string? inferenceId = null, CancellationToken cancellationToken = default) =>
        RunTurnAsync(userText, turnIdx, inferenceId ?? NewInferenceId(), cancellationToken);

    /// <summary>Continues the turn waiting for this tool call. False when no turn waits for it (unknown id or too late).</summary>
    public bool SubmitToolResult(ToolResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (_pendingTools.TryGetValue(result.ToolCallId, out var waiter) && waiter.TrySetResult(result.Content))
        {
            return true;
        }

        LogToolResultIgnored(_logger, result.ToolCallId);
        return false;
    }

    /// <summary>Continues a turn with an OpenAI tool message (<c>{"role":"tool","tool_call_id":…,"content":…}</c>).</summary>
    public bool SubmitToolResult(JsonElement toolMessage, out string? problem) =>
        ToolResult.TryParse(toolMessage, out var result, out problem) && SubmitToolResult(result!);

    /// <summary>After an interruption: what the replica actually said replaces the turn's generated text in history.</summary>
    public void RecordSpoken(string inferenceId, string spokenText) => History.RecordSpoken(inferenceId, spokenText);

    /// <summary>Forgets a turn (a speculative answer the user talked over).</summary>
    public void Discard(string inferenceId) => History.Discard(inferenceId);

    public static string NewInferenceId() => Guid.NewGuid().ToString("D");

    private async IAsyncEnumerable<ThinkingEvent> RunTurnAsync(string userText, int turnIdx, string inferenceId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var turnCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateUnbounded<ThinkingEvent>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var turn = new Turn(this, userText ?? string.Empty, turnIdx, inferenceId, channel.Writer);
        var running = Task.Run(() => turn.RunAsync(turnCts.Token), CancellationToken.None);
        try
        {
            // Read without the token: after a cancellation the turn still reports how it ended.
            await foreach (var item in channel.Reader.ReadAllAsync(CancellationToken.None))
            {
                yield return item;
            }
        }
        finally
        {
            await turnCts.CancelAsync(); // the consumer may have stopped early
            await running;
        }
    }

    private sealed record RoundResult(string Text, IReadOnlyList<ToolCallRecord> ToolCalls, LlmFailure? Failure, bool Interrupted = false);

    private sealed record LlmFailure(LlmErrorKind Kind, string Message, int? HttpStatus = null, TimeSpan? RetryAfter = null)
    {
        public string? Detail { get; init; }
    }

    private static string Chain(Exception ex)
    {
        var parts = new List<string>();
        for (var e = ex; e is not null; e = e.InnerException)
        {
            parts.Add(e is HttpRequestException h ? $"{e.GetType().Name}({h.HttpRequestError})" : e.GetType().Name);
        }

        return string.Join(" <- ", parts);
    }

    /// <summary>One turn: one or more requests (tool rounds), producing events into a channel.</summary>
    private sealed class Turn(LlmConversation owner, string userText, int turnIdx, string inferenceId, ChannelWriter<ThinkingEvent> events)
    {
        private readonly ClauseSplitter _splitter = new(owner._options.Clauses);
        private readonly StringBuilder _generated = new();
        private readonly List<HistoryMessage> _messages = [HistoryMessage.User(userText, inferenceId)];
        private readonly IReadOnlyList<HistoryMessage> _history = owner.History.Snapshot();
        private readonly string? _systemMessage = owner.SystemMessage;
        private long _start;
        private int _clauseIndex;
        private int _requests;
        private TimeSpan? _firstToken;
        private TimeSpan? _firstClause;

        private TimeSpan Elapsed => owner._time.GetElapsedTime(_start);

        public async Task RunAsync(CancellationToken ct)
        {
            _start = owner._time.GetTimestamp();
            var outcome = LlmTurnOutcome.Completed;
            try
            {
                LogTurnStarted(owner._logger, inferenceId, turnIdx, owner._backend.Model);
                Emit(new LlmTurnStarted(inferenceId, turnIdx, owner._backend.Model, owner._backend.IsBuiltIn));
                for (var round = 1; ; round++)
                {
                    var result = await StreamRoundAsync(ct);
                    if (result.Text.Length > 0 || result.ToolCalls.Count > 0)
                    {
                        _messages.Add(new HistoryMessage(ChatRole.Assistant, result.Text, result.ToolCalls.Count > 0 ? result.ToolCalls : null, InferenceId: inferenceId));
                    }

                    if (result.Interrupted)
                    {
                        outcome = LlmTurnOutcome.Interrupted;
                        _splitter.Reset();
                        break;
                    }

                    if (result.Failure is { } failure)
                    {
                        Fail(failure, owner._options.FallbackText);
                        outcome = LlmTurnOutcome.Failed;
                        break;
                    }

                    if (result.ToolCalls.Count == 0)
                    {
                        break;
                    }

                    if (round >= owner._options.MaxToolRounds)
                    {
                        AnswerTools(result.ToolCalls, _ => "{\"error\":\"Not run: too many tool rounds in one turn.\"}");
                        Fail(new LlmFailure(LlmErrorKind.TooManyToolRounds, $"The LLM asked for tools in more than {owner._options.MaxToolRounds} rounds of one turn."), owner._options.FallbackText);
                        outcome = LlmTurnOutcome.Failed;
                        break;
                    }

                    if (!await RunToolsAsync(result.ToolCalls, ct))
                    {
                        outcome = LlmTurnOutcome.Failed;
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                outcome = LlmTurnOutcome.Interrupted;
                _splitter.Reset();
            }
            catch (Exception ex)
            {
                // Nothing may escape a session: an unexpected failure still ends the turn with words.
                LogUnexpected(owner._logger, ex, inferenceId);
                Fail(new LlmFailure(LlmErrorKind.Unexpected, "The thinking stage failed unexpectedly."), owner._options.FallbackText);
                outcome = LlmTurnOutcome.Failed;
            }
            finally
            {
                owner.History.Commit(inferenceId, _messages);
                var ended = new LlmTurnEnded(inferenceId, turnIdx, outcome, _generated.ToString(), new LlmTurnMetrics(_firstToken, _firstClause, Elapsed, _requests));
                ThinkingMetrics.Record(ended, owner._backend.Model);
                Emit(ended);
                events.TryComplete();
            }
        }

        private async Task<RoundResult> StreamRoundAsync(CancellationToken turnCt)
        {
            var options = owner._options;
            var time = owner._time;
            var text = new StringBuilder();
            var calls = new SortedDictionary<int, (string? Id, string? Name, StringBuilder Arguments)>();
            string? finish = null;
            var gotToken = false;
            _requests++;

            // One timer per request on the session's clock: first the first-token deadline, then the stall deadline,
            // re-armed after every delta. Its cancellation aborts the HTTP request.
            using var timeout = new CancellationTokenSource(options.FirstTokenTimeout, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(turnCt, timeout.Token);
            try
            {
                await foreach (var delta in owner._backend.StreamAsync(_systemMessage, [.. _history, .. _messages], linked.Token).WithCancellation(linked.Token))
                {
                    switch (delta)
                    {
                        case TextDelta t:
                            MarkToken(ref gotToken);
                            text.Append(t.Text);
                            _generated.Append(t.Text);
                            foreach (var clause in _splitter.Push(t.Text))
                            {
                                EmitClause(clause, isFallback: false);
                            }

                            break;
                        case ToolCallDelta c:
                            MarkToken(ref gotToken);
                            if (!calls.TryGetValue(c.Index, out var call))
                            {
                                call = (null, null, new StringBuilder());
                            }

                            call = (call.Id ?? c.Id, call.Name ?? c.Name, call.Arguments.Append(c.Arguments));
                            calls[c.Index] = call;
                            break;
                        case FinishDelta f:
                            finish = f.Reason;
                            break;
                    }

                    if (gotToken)
                    {
                        timeout.CancelAfter(options.StallTimeout);
                    }
                }
            }
            catch (Exception) when (turnCt.IsCancellationRequested)
            {
                // Interrupted: the partial text is what was generated; incomplete tool calls are dropped.
                return new RoundResult(text.ToString(), [], null, Interrupted: true);
            }
            catch (Exception ex)
            {
                _splitter.Reset();
                return new RoundResult(text.ToString(), [], Classify(ex, timeout.IsCancellationRequested, gotToken) with { Detail = Chain(ex) });
            }

            if (finish is null && !gotToken)
            {
                _splitter.Reset();
                return new RoundResult(string.Empty, [], new LlmFailure(LlmErrorKind.MalformedResponse, "The LLM stream ended without any answer."));
            }

            if (_splitter.Complete() is { } rest)
            {
                EmitClause(rest, isFallback: false);
            }

            var toolCalls = calls.Values
                .Where(c => !string.IsNullOrEmpty(c.Name))
                .Select(c => new ToolCallRecord(string.IsNullOrEmpty(c.Id) ? "call_" + Guid.NewGuid().ToString("N") : c.Id, c.Name!, c.Arguments.ToString()))
                .ToList();
            return new RoundResult(text.ToString(), toolCalls, null);
        }

        private async Task<bool> RunToolsAsync(IReadOnlyList<ToolCallRecord> calls, CancellationToken ct)
        {
            var waiters = new Dictionary<string, TaskCompletionSource<string>>();
            foreach (var call in calls)
            {
                var waiter = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                waiters[call.Id] = waiter;
                owner._pendingTools[call.Id] = waiter;
            }

            // Start the deadline before anyone hears of the calls, so a result (or the clock) cannot overtake it.
            var all = Task.WhenAll(waiters.Values.Select(w => w.Task)).WaitAsync(owner._options.ToolResultTimeout, owner._time, ct);
            foreach (var call in calls)
            {
                Emit(new LlmToolCall(inferenceId, turnIdx, call.Id, call.Name, call.Arguments));
            }

            var timedOut = false;
            try
            {
                await all;
            }
            catch (TimeoutException)
            {
                timedOut = true;
            }
            finally
            {
                foreach (var waiter in waiters)
                {
                    // Only this turn's own waiter: a later turn (a speculation's successor) may wait on the same id.
                    owner._pendingTools.TryRemove(waiter);
                }

                // Every assistant tool call needs a tool message, or the next request is invalid.
                AnswerTools(calls, id => waiters[id].Task.IsCompletedSuccessfully
                    ? waiters[id].Task.Result
                    : ct.IsCancellationRequested
                        ? "{\"error\":\"The turn was interrupted before the result arrived.\"}"
                        : "{\"error\":\"No result arrived in time.\"}");
            }

            if (timedOut)
            {
                var missing = string.Join(", ", calls.Where(c => !waiters[c.Id].Task.IsCompletedSuccessfully).Select(c => c.Name));
                Fail(new LlmFailure(LlmErrorKind.ToolResultTimeout, $"No tool result within {owner._options.ToolResultTimeout.TotalSeconds:0.#} s for: {missing}."), owner._options.ToolTimeoutText);
                return false;
            }

            return true;
        }

        private void AnswerTools(IReadOnlyList<ToolCallRecord> calls, Func<string, string> content)
        {
            foreach (var call in calls)
            {
                _messages.Add(HistoryMessage.Tool(call.Id, content(call.Id), inferenceId));
            }
        }

        private void MarkToken(ref bool gotToken)
        {
            gotToken = true;
            _firstToken ??= Elapsed;
        }

        private void Fail(LlmFailure failure, string fallback)
        {
            LogTurnFailed(owner._logger, inferenceId, failure.Kind, failure.HttpStatus, failure.Detail ?? "-");
            _splitter.Reset();
            var error = new LlmError(inferenceId, turnIdx, failure.Kind, failure.Message, failure.HttpStatus, failure.RetryAfter);
            ThinkingMetrics.Record(error);
            Emit(error);
            EmitClause(fallback, isFallback: true);
            _messages.Add(HistoryMessage.Assistant(fallback, inferenceId));
        }

        private void EmitClause(string text, bool isFallback)
        {
            var at = Elapsed;
            _firstClause ??= at;
            events.TryWrite(new LlmClause(inferenceId, turnIdx, _clauseIndex++, text, isFallback) { Elapsed = at });
        }

        private void Emit(ThinkingEvent item) => events.TryWrite(item with { Elapsed = Elapsed });
    }

    private static LlmFailure Classify(Exception exception, bool timedOut, bool gotToken)
    {
        if (timedOut)
        {
            return gotToken
                ? new LlmFailure(LlmErrorKind.Stalled, "The LLM stream stalled.")
                : new LlmFailure(LlmErrorKind.FirstTokenTimeout, "The LLM did not start answering in time.");
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case ClientResultException { Status: > 0 } http:
                    return http.Status switch
                    {
                        429 => new LlmFailure(LlmErrorKind.RateLimited, "The LLM endpoint is rate-limiting requests (HTTP 429).", 429, RetryAfter(http)),
                        401 or 403 => new LlmFailure(LlmErrorKind.Unauthorized, $"The LLM endpoint refused the API key (HTTP {http.Status}).", http.Status),
                        _ => new LlmFailure(LlmErrorKind.HttpError, $"The LLM endpoint answered HTTP {http.Status}.", http.Status),
                    };
                case LlmConfigurationException config:
                    return new LlmFailure(LlmErrorKind.Configuration, config.Message);
                case JsonException or FormatException or InvalidDataException:
                    return new LlmFailure(LlmErrorKind.MalformedResponse, "The LLM stream carried malformed data.");
                case HttpRequestException { HttpRequestError: HttpRequestError.ResponseEnded }:
                case HttpIOException:
                    return new LlmFailure(LlmErrorKind.ConnectionLost, "The connection to the LLM endpoint was lost mid-answer.");
                case HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError or HttpRequestError.SecureConnectionError or HttpRequestError.ProxyTunnelError }:
                case SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostNotFound or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostDown or SocketError.TryAgain or SocketError.NoData or SocketError.AddressNotAvailable }:
                    return new LlmFailure(LlmErrorKind.Unreachable, "The LLM endpoint could not be reached.");
                case SocketException:
                    return new LlmFailure(LlmErrorKind.ConnectionLost, "The connection to the LLM endpoint was lost.");
                case HttpRequestException { HttpRequestError: HttpRequestError.InvalidResponse }:
                    return new LlmFailure(LlmErrorKind.MalformedResponse, "The LLM endpoint sent an invalid HTTP response.");
                case IOException when e.InnerException is null:
                    return new LlmFailure(LlmErrorKind.ConnectionLost, "The connection to the LLM endpoint was lost mid-answer.");
            }
        }

        return new LlmFailure(LlmErrorKind.Unexpected, $"The LLM request failed ({exception.GetType().Name}).");
    }

    private static TimeSpan? RetryAfter(ClientResultException exception)
    {
        var response = exception.GetRawResponse();
        if (response is null || !response.Headers.TryGetValue("Retry-After", out var value) || string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at - DateTimeOffset.UtcNow is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero
            : null;
    }
}
