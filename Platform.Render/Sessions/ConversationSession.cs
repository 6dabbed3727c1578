using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Perception;
using Platform.Render.Speech;
using Platform.Render.Thinking;

namespace Platform.Render.Sessions;

/// <summary>
/// One conversation's full-duplex pipeline: client audio → <see cref="ListeningSession"/> (VAD, ASR, turn-taking) →
/// <see cref="LlmConversation"/> (speculative at the user's pause, committed at the floor decision) → TTS clause by
/// clause → 48 kHz audio and a face animated in sync → <see cref="IMediaSink"/>.
/// <para>
/// Media time drives everything: the clock is the client audio consumed (<see cref="PushAudioAsync"/>, or
/// <see cref="PushSilenceAsync"/> from a frame scheduler when the client sends nothing). A single loop owns the clock;
/// LLM and TTS run beside it and hand results over through a bounded channel that the loop only polls, so a slow
/// model never holds the clock: the face keeps moving and audio frames (silence) keep flowing. No exception escapes:
/// failures become <c>error</c> events and the session goes on.
/// </para>
/// </summary>
public sealed partial class ConversationSession : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(20);

    /// <summary>Client audio is consumed in slices this long, so video frames leave within 10 ms of their time.</summary>
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(10);

    /// <summary>Silence after overlapping user speech that did not barge in before the replica goes on.</summary>
    private static readonly TimeSpan ResumeAfter = TimeSpan.FromMilliseconds(400);

    private const float HoldProbability = 0.5f;

    /// <summary>An app's audio echo starts playing once this much has arrived (or all of it).</summary>
    private static readonly TimeSpan EchoAudioPrebuffer = TimeSpan.FromMilliseconds(200);

    /// <summary>The sample rates an app's audio echo may have.</summary>
    public const int MinEchoSampleRate = 8_000, MaxEchoSampleRate = 48_000;

    /// <summary>An app's audio echo without 'done' ends this long (media time) after its audio ran out.</summary>
    private static readonly TimeSpan EchoAudioIdle = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan FirstClauseLead = TimeSpan.FromMilliseconds(20); // leading silence kept on a turn's first clause

    private readonly SessionResources _resources;
    private readonly SessionOptions _options;
    private readonly IMediaSink _sink;
    private readonly ILogger _logger;
    private readonly LlmConversation? _llm;
    private readonly Channel<InputItem> _input;
    private readonly Channel<OutputItem> _output;
    private readonly Channel<WorkerMessage> _work;
    private readonly CancellationTokenSource _stop = new();
    private readonly FaceAnimator _animator;
    private readonly float[] _weights = new float[FaceWeights.Count];
    private readonly short[] _audioFrame;
    private readonly List<TurnMetrics> _metrics = [];
    private readonly Lock _metricsGate = new();
    private readonly List<ReplicaTurn> _pending = []; // committed turns waiting to speak, in order
    private ListeningSession? _listening;
    private FaceCompositor? _compositor;
    private IFaceRenderer? _renderer;
    private Task? _loop;
    private Task? _sender;
    private Task _lastRunner = Task.CompletedTask;
    private long _seq;
    private int _turnIdx = -1;
    private int _userTurnIdx = -1;
    private long _audioFramesOut;
    private long _videoFramesOut;
    private TimeSpan _clock;
    private ReplicaTurn? _speculation;
    private ReplicaTurn? _speaking;
    private PlayingClause? _current;
    private bool _paused;
    private TimeSpan? _overlapEndedAt;
    private TimeSpan _lastPause; // the user's latest pause (ASR final of the turn's last segment)
    private TimeSpan? _floorAt;
    private TimeSpan _speechEnd;
    private int _speculationsStarted;
    private long _droppedFrames;
    private int _speculationsDiscarded;
    private int _holds;
    private readonly EchoCanceller? _echo;
    private readonly PlaybackQueue _playbackQueue = new();
    private readonly Resampler _referenceResampler = new(AudioFormat.Output48k.SampleRate, 16_000);
    private readonly short[] _reference16k = new short[400];
    private (TimeSpan Position, TimeSpan At)? _playback; // the page's latest playback report and the microphone time it was made at
    private volatile bool _answerInFlight;
    private volatile bool _answerStarved;

    /// <summary>A playback report older than this (media time) no longer tells where the page is.</summary>
    private static readonly TimeSpan PlaybackReportLifetime = TimeSpan.FromSeconds(2);

    /// <summary>The delay at which the replica's own voice comes back in the microphone, once the echo canceller found it (diagnostics).</summary>
    public TimeSpan? EchoDelay => _echo?.Delay;

    /// <summary>The echo canceller's state for diagnostics: the delay in use, the one the page's reports suggest, the last attenuation.</summary>
    public string EchoState => _echo is null ? "off" : $"delay {_echo.Delay?.TotalMilliseconds:F1} ms, hint {_echo.DelayHint?.TotalMilliseconds:F1} ms, attenuation {_echo.LastAttenuationDb:F1} dB";

    /// <summary>The app's audio echo still taking pieces (null when none is open).</summary>
    private ReplicaTurn? _audioEcho;

    public ConversationSession(
        SessionResources resources,
        SessionOptions options,
        IMediaSink sink,
        LlmSettings? llm = null,
        LlmOptions? llmOptions = null,
        TimeProvider? timeProvider = null,
        HttpClient? httpClient = null,
        ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(resources);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sink);
        _resources = resources;
        _options = options;
        _sink = sink;
        _logger = loggerFactory?.CreateLogger<ConversationSession>() ?? (ILogger)NullLogger.Instance;
        if (options.Mode == SessionMode.Conversation)
        {
            _llm = new LlmConversation(llm ?? new LlmSettings(LlmSettings.RepeatModel), llmOptions, timeProvider,
                loggerFactory?.CreateLogger<LlmConversation>(), httpClient);
        }

        _input = Channel.CreateBounded<InputItem>(new BoundedChannelOptions(Math.Max(1, options.InputCapacity)) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _output = Channel.CreateBounded<OutputItem>(new BoundedChannelOptions(Math.Max(4, options.OutputCapacity)) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        _work = Channel.CreateBounded<WorkerMessage>(new BoundedChannelOptions(64) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _animator = new FaceAnimator(options.Seed);
        _echo = options.CancelEcho ? new EchoCanceller() : null;
        _seq = Math.Max(0, options.PreviousSeq);
        _turnIdx = Math.Max(-1, options.PreviousTurnIdx);
        _userTurnIdx = _turnIdx;
        if (_llm is not null && options.History.Count > 0)
        {
            _llm.History.Add([.. options.History
                .Where(m => !string.IsNullOrWhiteSpace(m.Text))
                .Select(m => string.Equals(m.Role, "user", StringComparison.OrdinalIgnoreCase)
                    ? HistoryMessage.User(m.Text.Trim())
                    : HistoryMessage.Assistant(m.Text.Trim()))]);
        }
        _audioFrame = new short[AudioFormat.Output48k.SampleRate * (int)Tick.TotalMilliseconds / 1000];
    }

    /// <summary>The LLM side (history, tool results); null in echo mode.</summary>
    public LlmConversation? Conversation => _llm;

    public SessionOptions Options => _options;

    /// <summary>Speculative LLM turns started at a user pause, and those discarded because the user went on.</summary>
    public (int Started, int Discarded) Speculations => (_speculationsStarted, _speculationsDiscarded);

    /// <summary>Times the replica paused for speech over it (a barge-in, a backchannel, or its own echo heard as the user).</summary>
    public int Holds => _holds;

    /// <summary>Video frames dropped because the sink fell behind (<see cref="SessionOptions.DropVideoWhenSinkIsSlow"/>).</summary>
    public long DroppedVideoFrames => Interlocked.Read(ref _droppedFrames);

    /// <summary>Where the face lies on the video canvas (null for audio-only sessions or before start).</summary>
    public SkiaSharp.SKRectI? FaceRect => _compositor?.FaceRect;

    /// <summary>The face renderer's framing (model → face-region pixels), for measurements.</summary>
    public FaceFraming? FaceFraming => _renderer?.Framing;

    /// <summary>Media time the session has reached (client audio consumed).</summary>
    public TimeSpan Clock => _clock;

    /// <summary>
    /// The replica holds the floor with an answer whose LLM or TTS is still working (real time), as of the last
    /// audio frame. With <see cref="AnswerStarved"/>, for diagnostics and for drivers that feed media faster than
    /// real time (tests, the bench), which must not outrun work the live clock would wait for.
    /// </summary>
    public bool AnswerInFlight => _answerInFlight;

    /// <summary>An answer in flight has nothing ready to play: the replica is silent, waiting for its next clause.</summary>
    public bool AnswerStarved => _answerStarved;

    /// <summary>Per-turn latencies so far, in media time from the true end of user speech.</summary>
    public IReadOnlyList<TurnMetrics> Metrics
    {
        get
        {
            lock (_metricsGate)
            {
                return [.. _metrics];
            }
        }
    }

    /// <summary>Opens the ASR stream and the face, starts the loop and speaks the greeting. Never throws for bad settings: they become error events.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _sender = Task.Run(SendLoopAsync, CancellationToken.None);
        if (_llm is not null)
        {
            var stopping = _stop.Token;
            _ = Task.Run(() => _llm.WarmUpAsync(stopping), CancellationToken.None); // ready before the user speaks; never throws
        }

        var (stream, error) = await _resources.Recognizer.OpenStreamAsync(cancellationToken).ConfigureAwait(false);
        if (stream is null)
        {
            Error("asr.unavailable", $"The speech recogniser could not start ({error}); the replica cannot hear.", null);
        }
        else
        {
            _listening = new ListeningSession(_options.InputFormat, _resources.Vad, stream, _options.TurnTaking, _options.Vad, _echo);
            if (_listening.InputError is { } inputError)
            {
                Error("audio.unsupported_format", inputError, null);
            }
        }

        if (!_options.AudioOnly)
        {
            try
            {
                var face = _resources.Face ?? throw new InvalidOperationException("No face asset was given for a video session.");
                var compositor = new CompositorOptions { Width = _options.Width, Height = _options.Height, GreenScreen = _options.GreenScreen ? true : null };
                var faceSize = (int)MathF.Round(_options.Height * 0.711f / 2) * 2;
                _renderer = face.CreateRenderer(_options.FaceRenderer, faceSize, faceSize);
                _compositor = new FaceCompositor(face.Look, _renderer, compositor);
            }
            catch (Exception ex)
            {
                LogUnexpected(_logger, ex);
                Error("video.unavailable", $"The face could not be prepared ({ex.GetType().Name}); audio goes on.", null);
            }
        }

        _loop = Task.Run(RunLoopAsync, CancellationToken.None);
        if (!string.IsNullOrWhiteSpace(_options.Greeting))
        {
            await SayAsync(_options.Greeting!, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Client audio in <see cref="SessionOptions.InputFormat"/>; waits only when the input queue is full.</summary>
    public ValueTask PushAudioAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) =>
        bytes.IsEmpty ? ValueTask.CompletedTask : _input.Writer.WriteAsync(new AudioInputItem(bytes.ToArray()), cancellationToken);

    /// <summary>Client audio as samples (interleaved when stereo) in <see cref="SessionOptions.InputFormat"/>.</summary>
    public ValueTask PushAudioAsync(ReadOnlyMemory<short> samples, CancellationToken cancellationToken = default) =>
        PushAudioAsync(MemoryMarshal.AsBytes(samples.Span).ToArray(), cancellationToken);

    /// <summary>
    /// The client audio pushed from now on was captured <paramref name="by"/> later (+) or earlier (−) against what
    /// came before than the media clock says: a jitter buffer played silence for audio that came late, or dropped a
    /// backlog. The echo canceller moves its delay with it. In order with the audio; waits only when the queue is full.
    /// </summary>
    public ValueTask ShiftMicrophoneAsync(TimeSpan by, CancellationToken cancellationToken = default) =>
        by == TimeSpan.Zero || _echo is null ? ValueTask.CompletedTask : _input.Writer.WriteAsync(new MicrophoneShiftInputItem(by), cancellationToken);

    /// <summary>Advances the media clock with silence (a frame scheduler calls this when the client sends nothing).</summary>
    public ValueTask PushSilenceAsync(TimeSpan duration, CancellationToken cancellationToken = default)
    {
        var format = _options.InputFormat;
        var samples = MediaTime.ToSamples(duration, format.SampleRate) * format.Channels;
        return samples <= 0 ? ValueTask.CompletedTask : PushAudioAsync(new byte[samples * 2], cancellationToken);
    }

    /// <summary>Echo (or an app's <c>conversation.echo</c>): speaks <paramref name="text"/> without the LLM, after what is already queued.</summary>
    public ValueTask SayAsync(string text, CancellationToken cancellationToken = default) =>
        _input.Writer.WriteAsync(new SayInputItem(text ?? string.Empty), cancellationToken);

    /// <summary>
    /// <c>conversation.echo</c> with <c>audio</c>: the app's own speech (16-bit mono PCM at <paramref name="sampleRate"/>),
    /// said by the replica with its mouth following the audio's envelope, after what is already queued. Pieces with the
    /// same <paramref name="inferenceId"/> (or, without one, until <paramref name="done"/>) are one utterance, played
    /// as they arrive once 200 ms are buffered; it ends at <paramref name="done"/>, at another inference id, or 2 s of
    /// media time after its audio ran out. After an interruption the rest of that utterance is dropped.
    /// </summary>
    public ValueTask EchoAudioAsync(ReadOnlyMemory<short> pcm, int sampleRate, bool done, string? inferenceId = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(sampleRate, MinEchoSampleRate);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(sampleRate, MaxEchoSampleRate);
        return EnqueueAsync(new EchoAudioInputItem(pcm.ToArray(), sampleRate, done, string.IsNullOrWhiteSpace(inferenceId) ? null : inferenceId), cancellationToken);
    }

    /// <summary>
    /// <c>conversation.interrupt</c>: stops the replica now, as a barge-in would (audio and mouth stop, the LLM is
    /// cancelled, <c>replica_interrupted</c> says what was actually heard, a <see cref="SessionEventTypes.Flush"/> voids
    /// queued output); answers not yet started are dropped. Nothing happens when the replica is silent.
    /// </summary>
    public ValueTask InterruptAsync(CancellationToken cancellationToken = default) => EnqueueAsync(new InterruptInputItem(), cancellationToken);

    /// <summary>
    /// <c>conversation.respond</c>: as if the user had said <paramref name="text"/>: a user <c>utterance</c> event, then
    /// the replica's answer through the LLM (it interrupts the replica first if it is talking).
    /// </summary>
    public ValueTask RespondAsync(string text, CancellationToken cancellationToken = default) => EnqueueAsync(new RespondInputItem(text ?? string.Empty), cancellationToken);

    /// <summary>Queues an app request in order with the audio; after the session ended it is ignored (never throws for that).</summary>
    private async ValueTask EnqueueAsync(InputItem item, CancellationToken cancellationToken)
    {
        try
        {
            await _input.Writer.WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            // The session is ending: nothing left to interrupt or answer.
        }
    }

    /// <summary>
    /// <c>conversation.overwrite_llm_context</c> (<paramref name="append"/> false) or <c>append_llm_context</c>: the
    /// persona's conversational context for the LLM requests that start from now on. Ignored in echo mode.
    /// </summary>
    public void SetContext(string? context, bool append) => _llm?.SetConversationalContext(context, append);

    /// <summary>
    /// <c>system.playback</c>: the page is playing media time <paramref name="mediaTime"/> now. What the replica
    /// "actually said" when cut is measured up to the played position (the page may be a few hundred ms behind what
    /// was sent), and the echo canceller aligns on it. <paramref name="microphoneAhead"/> is the page's microphone
    /// audio that came before the report but is not yet pushed (the caller's jitter buffer): the page made the report
    /// while capturing that much later than what the session has heard. <paramref name="queued"/>, when the page says
    /// it, is the audio it holds behind that position: while the replica is silent the session then leaves out silence
    /// to bring it down to <see cref="PlaybackQueue.Keep"/> (<see cref="PlaybackQueue"/>); <paramref name="starved"/>,
    /// when the page says it, is the time its queue has run dry so far, and each gap makes the session keep more.
    /// Never waits; a report that finds the input queue full is dropped.
    /// </summary>
    public void ReportPlaybackPosition(TimeSpan mediaTime, TimeSpan microphoneAhead = default, TimeSpan? queued = null, TimeSpan? starved = null)
    {
        if (mediaTime >= TimeSpan.Zero && microphoneAhead >= TimeSpan.Zero && !(queued < TimeSpan.Zero) && !(starved < TimeSpan.Zero))
        {
            _input.Writer.TryWrite(new PlaybackInputItem(mediaTime, microphoneAhead, queued, starved));
        }
    }

    /// <summary>Silence left out of the output so far to keep the page's playback queue short.</summary>
    public TimeSpan SkippedSilence => _playbackQueue.Skipped;

    /// <summary>Continues a turn waiting on a tool call (OpenAI tool message semantics).</summary>
    public bool SubmitToolResult(ToolResult result) => _llm?.SubmitToolResult(result) ?? false;

    /// <summary>Ends the input, lets the loop process what is queued and the sink receive everything.</summary>
    public async Task CompleteAsync()
    {
        _input.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        _output.Writer.TryComplete();
        if (_sender is not null)
        {
            await _sender.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _input.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            LogUnexpected(_logger, ex);
        }

        foreach (var turn in AllTurns())
        {
            turn.Cancel(null, discard: true);
        }

        _work.Writer.TryComplete();
        try
        {
            await _lastRunner.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The runners end on their own once cancelled; nothing to wait for beyond this.
        }

        while (_output.Reader.TryRead(out var left))
        {
            left.Dispose();
        }

        if (_listening is not null)
        {
            await _listening.DisposeAsync().ConfigureAwait(false);
        }

        _compositor?.Dispose();
        _renderer?.Dispose();
        _stop.Dispose();
    }

    private IEnumerable<ReplicaTurn> AllTurns()
    {
        if (_speculation is not null)
        {
            yield return _speculation;
        }

        if (_speaking is not null)
        {
            yield return _speaking;
        }

        foreach (var t in _pending)
        {
            yield return t;
        }
    }

    // ---------------------------------------------------------------- the loop (owns the media clock)

    private async Task RunLoopAsync()
    {
        var format = _options.InputFormat;
        var sliceBytes = Math.Max(format.BytesPerFrame, (int)(format.SampleRate * Slice.TotalSeconds) * Math.Max(1, format.BytesPerFrame));
        try
        {
            await foreach (var item in _input.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                switch (item)
                {
                    case SayInputItem say:
                        Guard(() => StartEcho(say.Text));
                        break;
                    case EchoAudioInputItem echoAudio:
                        Guard(() => EchoAudio(echoAudio));
                        break;
                    case RespondInputItem respond:
                        Guard(() => Respond(respond.Text));
                        break;
                    case InterruptInputItem:
                        Guard(Interrupt);
                        break;
                    case MicrophoneShiftInputItem shift:
                        _echo?.ShiftTimeline(shift.By);
                        break;
                    case PlaybackInputItem playback:
                        var reportedAt = _clock + playback.MicrophoneAhead;
                        _playback = (playback.Position, reportedAt);
                        _echo?.SetDelayHint(reportedAt - (playback.Position - _playbackQueue.SkippedBefore(playback.Position)));
                        if (playback.Queued is { } queued)
                        {
                            _playbackQueue.Report(playback.Position, queued, playback.Starved);
                        }
                        break;
                    case AudioInputItem audio:
                        for (var offset = 0; offset < audio.Bytes.Length; offset += sliceBytes)
                        {
                            var slice = audio.Bytes.AsMemory(offset, Math.Min(sliceBytes, audio.Bytes.Length - offset));
                            await StepAsync(slice).ConfigureAwait(false);
                        }

                        break;
                }
            }

            while (_overflow.TryDequeue(out var late))
            {
                await _output.Writer.WriteAsync(new EventOutputItem(late), _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // Last resort: the loop itself must not die silently.
            LogUnexpected(_logger, ex);
            Error("session.unexpected", "The session loop failed unexpectedly.", null);
        }
    }

    private async ValueTask StepAsync(ReadOnlyMemory<byte> slice)
    {
        DrainWorkers();
        if (_audioEcho is { } fed && _clock > fed.FeedPlaysUntil + EchoAudioIdle)
        {
            CloseFeed(fed); // the app stopped sending without 'done'
        }

        IReadOnlyList<PerceptionEvent> events = [];
        var before = _clock;
        if (_listening is not null && _listening.InputError is null)
        {
            try
            {
                events = await _listening.PushAsync(slice, _stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogUnexpected(_logger, ex);
                Error("asr.failed", "Listening failed on this audio; the session goes on.", null);
            }

            _clock = _listening.Position;
        }

        if (_clock <= before)
        {
            // No perception (ASR unavailable or unusable input): the clock still follows the client's audio.
            var format = _options.InputFormat;
            _clock = before + MediaTime.FromSamples(slice.Length / Math.Max(1, format.BytesPerFrame), format.SampleRate > 0 ? format.SampleRate : 16_000);
        }

        foreach (var e in events)
        {
            Guard(() => OnPerception(e));
        }

        Guard(CheckOverlap);
        DrainWorkers();
        await RenderUntilAsync(_clock).ConfigureAwait(false);
    }

    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            LogUnexpected(_logger, ex);
            Error("session.unexpected", $"A pipeline step failed ({ex.GetType().Name}); the session goes on.", _speaking?.InferenceId);
        }
    }

    // ---------------------------------------------------------------- perception → turns

    private void OnPerception(PerceptionEvent e)
    {
        switch (e.Kind)
        {
            case PerceptionEventKind.Error:
                Error("asr.failed", e.Error?.Message ?? "Speech recognition failed.", null);
                return;
            case PerceptionEventKind.Partial:
                return;
            case PerceptionEventKind.SilenceBegan:
                // Speculate at the first silent frame, before the VAD's hangover: the floor rule is unchanged, this
                // only lets the LLM's first token and the first clause's TTS overlap the wait for it.
                if (_options.SpeculateAtFirstSilence)
                {
                    Speculate(e.Text);
                }

                return;
            case PerceptionEventKind.SpeechResumed:
                DropSpeculation();
                return;
            case PerceptionEventKind.UserTurnFinal:
                OnUserTurnFinal(e);
                return;
        }

        var d = e.Decision!;
        switch (d.Signal)
        {
            case TurnSignal.UserStartedSpeaking:
                _userTurnIdx = ++_turnIdx;
                Emit(SessionEventTypes.UserStartedSpeaking, _userTurnIdx, null, d.SpeechEnd);
                // The user took the floor back before a committed answer could start: drop it.
                foreach (var waiting in _pending)
                {
                    waiting.Cancel(null, discard: true);
                }

                _pending.Clear();
                break;
            case TurnSignal.UserPaused:
                _lastPause = d.At;
                _speechEnd = d.SpeechEnd;
                _animator.Cue(d.Shape == UtteranceShape.Question ? ListeningCue.BrowRaise : ListeningCue.Nod, d.At);
                if (_speculation is { } early && !string.Equals(early.Input, d.Transcript, StringComparison.Ordinal))
                {
                    // The early hypothesis differs from the segment's final: speculate again on the final.
                    DropSpeculation();
                }

                Speculate(d.Transcript);

                break;
            case TurnSignal.UserResumed:
                DropSpeculation();
                break;
            case TurnSignal.FloorYielded:
                _floorAt = d.At;
                _speechEnd = d.SpeechEnd;
                break;
            case TurnSignal.BargeIn:
                BargeIn();
                break;
        }
    }

    private void OnUserTurnFinal(PerceptionEvent e)
    {
        var text = e.Text.Trim();
        var speechEnd = e.Decision?.SpeechEnd ?? e.At;
        Emit(SessionEventTypes.UserStoppedSpeaking, _userTurnIdx, null, speechEnd);
        if (text.Length == 0)
        {
            // Noise or a cough: nothing to answer.
            DropSpeculation();
            return;
        }

        Emit(SessionEventTypes.Utterance, _userTurnIdx, null, speechEnd, x => x with { Role = "user", Text = text });
        if (_llm is null)
        {
            return;
        }

        ReplicaTurn turn;
        if (_speculation is { } spec && string.Equals(spec.Input, text, StringComparison.Ordinal))
        {
            turn = spec;
            _speculation = null;
        }
        else
        {
            DropSpeculation();
            turn = StartTurn(text, speculative: false);
        }

        turn.Committed = true;
        foreach (var held in turn.HeldErrors)
        {
            Error("llm." + Snake(held.Kind.ToString()), held.Message, turn.InferenceId, turn.TurnIdx);
        }

        turn.HeldErrors.Clear();
        foreach (var held in turn.HeldToolCalls)
        {
            EmitToolCall(turn, held);
        }

        turn.HeldToolCalls.Clear();
        turn.SpeechEnd = speechEnd;
        turn.FloorAt = _floorAt ?? e.At;
        turn.AsrFinalAt = _lastPause;
        _pending.Add(turn);
    }

    /// <summary>Starts the LLM on <paramref name="heard"/> before the floor is decided, unless a speculation runs.</summary>
    private void Speculate(string heard)
    {
        if (_llm is not null && _speculation is null && heard.Length > 0)
        {
            _speculation = StartTurn(heard, speculative: true);
            _speculationsStarted++;
        }
    }

    private void DropSpeculation()
    {
        if (_speculation is { } spec)
        {
            spec.Cancel(null, discard: true);
            _speculation = null;
            _speculationsDiscarded++;
            SessionMetrics.SpeculationDiscarded();
        }
    }

    private ReplicaTurn StartTurn(string input, bool speculative)
    {
        var turn = new ReplicaTurn(LlmConversation.NewInferenceId(), ++_turnIdx, input, isEcho: false)
        {
            Speculative = speculative,
            LlmStartMedia = _clock,
        };
        turn.Runner = RunAfterAsync(_lastRunner, turn);
        _lastRunner = turn.Runner;
        return turn;
    }

    private void EmitToolCall(ReplicaTurn turn, LlmToolCall call) =>
        Emit(SessionEventTypes.ToolCall, turn.TurnIdx, turn.InferenceId, _clock, e => e with
        {
            ToolCallId = call.ToolCallId,
            ToolName = call.Name,
            Arguments = call.Arguments,
            Model = turn.Model,
        });

    private void StartEcho(string text)
    {
        var turn = new ReplicaTurn(LlmConversation.NewInferenceId(), ++_turnIdx, text, isEcho: true)
        {
            Committed = true,
            SpeechEnd = _clock,
            LlmStartMedia = _clock,
        };
        turn.Runner = RunAfterAsync(_lastRunner, turn);
        _lastRunner = turn.Runner;
        _pending.Add(turn);
    }

    private void EchoAudio(EchoAudioInputItem item)
    {
        var open = _audioEcho;
        if (open is not null && item.InferenceId is { } id && id != open.InferenceId)
        {
            CloseFeed(open);
            open = null;
        }

        if (open is null)
        {
            if (item.Pcm.Length == 0)
            {
                return; // 'done' for an utterance already ended (or never started): nothing to say
            }

            open = new ReplicaTurn(item.InferenceId ?? LlmConversation.NewInferenceId(), ++_turnIdx, string.Empty, isEcho: true)
            {
                Committed = true,
                SpeechEnd = _clock,
                LlmStartMedia = _clock,
                FedAudio = new StreamLoudness(),
                FeedPlaysUntil = _clock,
            };
            open.Runner = AfterHeardAsync(_lastRunner, open);
            _lastRunner = open.Runner;
            _pending.Add(open);
            _audioEcho = open;
        }

        if (item.Pcm.Length > 0)
        {
            open.FeedPlaysUntil = (open.FeedPlaysUntil > _clock ? open.FeedPlaysUntil : _clock) + MediaTime.FromSamples(item.Pcm.Length, item.SampleRate);
            if (!open.Cancelled)
            {
                // Nothing to think or synthesise: queued here, on the media clock, as it arrives.
                var visemes = EnvelopeVisemes.Estimate(item.Pcm, item.SampleRate, open.FedAudio);
                open.Ready.Enqueue(new PlayingClause(string.Empty, new SynthesisResult(string.Empty, item.Pcm, item.SampleRate, [], visemes)));
            }
        }

        if (item.Done)
        {
            CloseFeed(open);
        }
    }

    private void CloseFeed(ReplicaTurn turn)
    {
        turn.MarkWorkerDone();
        if (ReferenceEquals(_audioEcho, turn))
        {
            _audioEcho = null;
        }
    }

    private void Respond(string text)
    {
        text = text.Trim();
        if (text.Length == 0)
        {
            Error("respond.empty", "conversation.respond needs a non-empty text.", null);
            return;
        }

        if (_llm is null)
        {
            Error("respond.unavailable", "This session has no LLM (echo mode): use echo to make the replica speak.", null);
            return;
        }

        Interrupt();
        _userTurnIdx = ++_turnIdx;
        Emit(SessionEventTypes.Utterance, _userTurnIdx, null, _clock, x => x with { Role = "user", Text = text });
        var turn = new ReplicaTurn(LlmConversation.NewInferenceId(), ++_turnIdx, text, isEcho: false)
        {
            FromApp = true,
            Committed = true,
            SpeechEnd = _clock,
            FloorAt = _clock,
            LlmStartMedia = _clock,
        };
        turn.Runner = RunAfterAsync(_lastRunner, turn);
        _lastRunner = turn.Runner;
        _pending.Add(turn);
    }

    /// <summary>Stops everything the replica was saying or about to say.</summary>
    private void Interrupt()
    {
        DropSpeculation();
        foreach (var waiting in _pending)
        {
            waiting.Cancel(null, discard: true);
        }

        _pending.Clear();
        BargeIn();
    }

    // ---------------------------------------------------------------- workers (LLM + TTS), beside the loop

    private async Task RunAfterAsync(Task previous, ReplicaTurn turn)
    {
        try
        {
            await previous.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A previous runner's failure was reported by it.
        }

        try
        {
            await Task.Yield();
            var token = turn.Token;
            if (turn.IsEcho)
            {
                var index = 0;
                foreach (var clause in Speech.ClauseSplitter.Split(turn.Input))
                {
                    token.ThrowIfCancellationRequested();
                    var result = await _resources.Synthesizer.SynthesizeAsync(clause, token).ConfigureAwait(false);
                    await PostAsync(turn, new Synthesized(index++, clause, result)).ConfigureAwait(false);
                }
            }
            else if (!token.IsCancellationRequested)
            {
                await foreach (var ev in _llm!.RespondAsync(turn.Input, turn.TurnIdx, turn.InferenceId, token).ConfigureAwait(false))
                {
                    await PostAsync(turn, ev).ConfigureAwait(false);
                    if (ev is LlmClause clause && !token.IsCancellationRequested)
                    {
                        var result = await _resources.Synthesizer.SynthesizeAsync(clause.Text, token).ConfigureAwait(false);
                        await PostAsync(turn, new Synthesized(clause.Index, clause.Text, result)).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ChannelClosedException)
        {
        }
        catch (Exception ex)
        {
            LogUnexpected(_logger, ex);
            await PostAsync(turn, new WorkerFailed("session.unexpected", "Thinking or speaking failed unexpectedly.")).ConfigureAwait(false);
        }

        await PostAsync(turn, new WorkerDone()).ConfigureAwait(false);

        // History follows what the user actually heard; the next turn starts only after this.
        var fate = await turn.Settled.ConfigureAwait(false);
        if (_llm is null || turn.IsEcho)
        {
            return;
        }

        if (fate.Discard)
        {
            _llm.Discard(turn.InferenceId);
        }
        else if (fate.Spoken is { } spoken)
        {
            _llm.RecordSpoken(turn.InferenceId, spoken);
        }
    }

    /// <summary>The runner of a turn the loop feeds itself (an app's audio): the next turn starts after it was heard.</summary>
    private static async Task AfterHeardAsync(Task previous, ReplicaTurn turn)
    {
        try
        {
            await previous.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // A previous runner's failure was reported by it.
        }

        await turn.Settled.ConfigureAwait(false);
    }

    private async ValueTask PostAsync(ReplicaTurn turn, object payload)
    {
        try
        {
            await _work.Writer.WriteAsync(new WorkerMessage(turn, payload), _stop.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
        {
            turn.Settle(null, discard: true);
        }
    }

    private void DrainWorkers()
    {
        while (_work.Reader.TryRead(out var message))
        {
            Guard(() => OnWorker(message));
        }
    }

    private void OnWorker(WorkerMessage message)
    {
        var turn = message.Turn;
        switch (message.Payload)
        {
            case LlmTurnStarted started:
                turn.Model = started.Model;
                break;
            case LlmToolCall call:
                if (turn.Cancelled)
                {
                    break;
                }

                if (turn.Committed)
                {
                    EmitToolCall(turn, call);
                }
                else
                {
                    // A speculation must not make the app run a tool for words the user may not have finished.
                    turn.HeldToolCalls.Add(call);
                }

                break;
            case LlmError error:
                if (turn.Cancelled)
                {
                    break;
                }

                if (turn.Committed)
                {
                    Error("llm." + Snake(error.Kind.ToString()), error.Message, turn.InferenceId, turn.TurnIdx);
                }
                else
                {
                    // A speculation's failure matters only if the user lets it speak.
                    turn.HeldErrors.Add(error);
                }

                break;
            case LlmTurnEnded ended:
                turn.FirstTokenElapsed = ended.Metrics.FirstToken;
                break;
            case LlmClause:
                turn.FirstClauseSeen ??= _clock;
                break;
            case Synthesized s:
                if (turn.Cancelled)
                {
                    break;
                }

                if (!s.Result.Ok || s.Result.Audio.Length == 0)
                {
                    Error("tts.failed", $"Could not say a clause: {s.Result.Error?.Message ?? "no audio"}.", turn.InferenceId, turn.TurnIdx);
                    break;
                }

                // The first clause starts at once (its leading pause is latency); later ones keep theirs (the gap between sentences).
                turn.Ready.Enqueue(new PlayingClause(s.Text, s.Index == 0 ? s.Result.WithoutLeadingSilence(FirstClauseLead) : s.Result));
                break;
            case WorkerFailed failed:
                if (!turn.Cancelled)
                {
                    Error(failed.Code, failed.Message, turn.InferenceId, turn.TurnIdx);
                }

                break;
            case WorkerDone:
                turn.MarkWorkerDone();
                break;
        }
    }

    // ---------------------------------------------------------------- barge-in

    private void CheckOverlap()
    {
        var turns = _listening?.Turns;
        if (turns is null || _speaking is null || !turns.ReplicaSpeaking)
        {
            return;
        }

        // Silero's raw probability reacts a frame or two before the hysteresis declares speech: hold on it, so the
        // replica falls silent within ~100 ms of the user's onset; only the barge-in decision cuts for good.
        // Overlapping "speech" that began before the echo was located was (at least partly) the echo itself.
        var overlap = turns.OverlapStart is { } o && !(_echo?.ResolvedAt > o) ? o : (TimeSpan?)null;
        if (overlap is not null || _listening!.SpeechProbability >= HoldProbability)
        {
            _overlapEndedAt = null;
            if (!_paused)
            {
                // The user started talking over the replica: hold audio and mouth at once; a barge-in decision cuts,
                // a backchannel ("uh huh") followed by silence resumes where it stopped.
                _paused = true;
                _holds++;
                _animator.Interrupt(OutputPosition);
            }
        }
        else if (_paused)
        {
            _overlapEndedAt ??= _clock;
            if (_clock - _overlapEndedAt.Value >= ResumeAfter)
            {
                _paused = false;
                _overlapEndedAt = null;
                if (_current is not null)
                {
                    SpeakRemainder(_current, OutputPosition);
                }
            }
        }
    }

    private void BargeIn()
    {
        var turn = _speaking;
        if (turn is null)
        {
            return;
        }

        var at = OutputPosition;
        if (!_paused)
        {
            // (When held, the mouth already stopped at the hold; moving the cut later would reopen it.)
            _animator.Interrupt(at);
        }

        // What the user heard: up to where the page plays (it may lag what was sent); the rest is voided.
        var heard = PlayedPosition();
        var spoken = SpokenUpTo(turn, heard);
        var duration = heard > turn.StartedAt ? heard - turn.StartedAt : TimeSpan.Zero;
        SessionMetrics.Interrupted();
        EmitControl(SessionEventTypes.Flush, turn.TurnIdx, turn.InferenceId, heard);
        Emit(SessionEventTypes.ReplicaInterrupted, turn.TurnIdx, turn.InferenceId, at, e => e with { Text = spoken, Duration = duration });
        FinishSpeaking(turn, at, duration, spoken, interrupted: true);
    }

    /// <summary>Where the page is playing now: its latest report moved on by the time since (and over the silence left out
    /// since), never past what was sent.</summary>
    private TimeSpan PlayedPosition()
    {
        var sent = OutputPosition;
        if (_playback is not { } p || _clock - p.At > PlaybackReportLifetime)
        {
            return sent;
        }

        var now = _playbackQueue.Advance(p.Position, _clock - p.At); // the page plays over silence left out
        return now < sent ? now : sent;
    }

    /// <summary>The words of <paramref name="turn"/> whose audio had played by media time <paramref name="cut"/>.</summary>
    private static string SpokenUpTo(ReplicaTurn turn, TimeSpan cut)
    {
        var index = turn.Progress.FindLastIndex(x => x.End <= cut + TimeSpan.FromMilliseconds(10));
        if (index < 0)
        {
            return string.Empty;
        }

        var (_, clause, offset) = turn.Progress[index];
        var words = turn.Played.Take(clause).Select(c => c.Text).ToList();
        var c = turn.Played[clause];
        var all = c.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var fraction = offset / (double)Math.Max(1, c.Audio48.Length);
        var n = fraction >= 1 ? all.Length : (int)Math.Floor(all.Length * fraction + 0.25);
        if (n > 0)
        {
            words.Add(string.Join(' ', all.Take(n)));
        }

        return string.Join(' ', words);
    }

    private void FinishSpeaking(ReplicaTurn turn, TimeSpan at, TimeSpan duration, string spoken, bool interrupted)
    {
        // Metrics first: a listener that reads them on replica.stopped_speaking must find this turn's.
        if (!turn.MouthMeasured)
        {
            Measure(turn);
        }

        Emit(SessionEventTypes.ReplicaStoppedSpeaking, turn.TurnIdx, turn.InferenceId, at, e => e with { Duration = duration, Model = turn.Model });
        if (spoken.Length > 0)
        {
            Emit(SessionEventTypes.Utterance, turn.TurnIdx, turn.InferenceId, at, e => e with { Role = "replica", Text = spoken, Model = turn.Model });
        }

        _listening?.Turns.ReplicaStoppedSpeaking();
        _current = null;
        _paused = false;
        _overlapEndedAt = null;
        _speaking = null;
        if (interrupted)
        {
            turn.Cancel(spoken, discard: spoken.Length == 0 && !turn.IsEcho);
        }
        else
        {
            turn.Settle(null, discard: false);
        }
    }

    // ---------------------------------------------------------------- output (audio + video on one timeline)

    private TimeSpan OutputPosition => MediaTime.FromSamples(_audioFramesOut * _audioFrame.Length, AudioFormat.Output48k.SampleRate);

    private async ValueTask RenderUntilAsync(TimeSpan clock)
    {
        var fps = Math.Max(1, _options.FramesPerSecond);
        while (true)
        {
            var audioEnd = MediaTime.FromSamples((_audioFramesOut + 1) * _audioFrame.Length, AudioFormat.Output48k.SampleRate);
            var videoAt = TimeSpan.FromTicks(_videoFramesOut * TimeSpan.TicksPerSecond / fps);
            var videoDue = _compositor is not null && videoAt < clock;
            var audioDue = audioEnd <= clock;
            if (!videoDue && !audioDue)
            {
                break;
            }

            if (videoDue && (!audioDue || videoAt < OutputPosition + Tick))
            {
                await EmitVideoAsync(videoAt).ConfigureAwait(false);
                _videoFramesOut++;
            }
            else
            {
                await EmitAudioAsync().ConfigureAwait(false);
                _audioFramesOut++;
            }
        }
    }

    private async ValueTask EmitAudioAsync()
    {
        var frameStart = OutputPosition;
        var span = _audioFrame.AsSpan();
        span.Clear();
        var pos = 0;
        while (pos < span.Length && !_paused)
        {
            if (_current is null && !StartNextClause(frameStart + MediaTime.FromSamples(pos, AudioFormat.Output48k.SampleRate)))
            {
                break;
            }

            var c = _current!;
            var n = Math.Min(span.Length - pos, c.Audio48.Length - c.Offset48);
            c.Audio48.AsSpan(c.Offset48, n).CopyTo(span[pos..]);
            c.Offset48 += n;
            pos += n;
            if (c.Offset48 >= c.Audio48.Length)
            {
                if (c.Text.Length > 0)
                {
                    _speaking!.SpokenClauses.Add(c.Text);
                }
                _current = null;
            }
        }

        if (_speaking is { } turn && _current is null && !_paused && turn.Ready.Count == 0 && turn.WorkerDone)
        {
            var end = frameStart + MediaTime.FromSamples(pos, AudioFormat.Output48k.SampleRate);
            FinishSpeaking(turn, end, end - turn.StartedAt, string.Join(' ', turn.SpokenClauses), interrupted: false);
        }

        if (pos > 0 && _speaking is { } playing && playing.Played.Count > 0)
        {
            var ordinal = playing.Played.Count - 1;
            var offset = _current?.Offset48 ?? playing.Played[^1].Audio48.Length;
            playing.Progress.Add((frameStart + Tick, ordinal, offset));
        }

        var head = _speaking ?? (_pending.Count > 0 ? _pending[0] : null);
        _answerInFlight = head is { WorkerDone: false, Cancelled: false, FedAudio: null };
        _answerStarved = _answerInFlight && _current is null && !_paused && head!.Ready.Count == 0;

        // Silence between turns the page has too much of queued already is left out (its queue gets shorter).
        var length = MediaTime.FromSamples(span.Length, AudioFormat.Output48k.SampleRate);
        if (pos == 0 && _speaking is null && _playbackQueue.TrySkip(frameStart, length))
        {
            _echo?.SkipReference(length);
            return;
        }

        if (_echo is not null)
        {
            // What the page will play, for the echo canceller (16 kHz on the same timeline).
            var n = _referenceResampler.Process(span, _reference16k);
            _echo.AddReference(frameStart, _reference16k.AsSpan(0, n));
        }

        var frame = PcmFrame.Rent(span, AudioFormat.Output48k, frameStart);
        await WriteAsync(new AudioOutputItem(frame)).ConfigureAwait(false);
    }

    private bool StartNextClause(TimeSpan at)
    {
        if (_speaking is null)
        {
            // The next committed turn in order; a speculative one never speaks before its floor decision.
            while (_pending.Count > 0 && (_pending[0].Cancelled || _pending[0] is { WorkerDone: true, Ready.Count: 0 }))
            {
                // Cancelled, or finished without anything to say (empty answer, every clause failed): the next
                // turn must not wait behind it.
                _pending[0].Settle(null, discard: false);
                _pending.RemoveAt(0);
            }

            if (_pending.Count == 0 || _pending[0].Ready.Count == 0)
            {
                return false;
            }

            if (_pending[0] is { FedAudio: not null, WorkerDone: false } fed && fed.ReadyDuration < EchoAudioPrebuffer)
            {
                return false; // an app streaming its audio: a little in hand first, so arrival jitter is not heard
            }

            _speaking = _pending[0];
            _pending.RemoveAt(0);
        }

        var turn = _speaking;
        if (!turn.Ready.TryDequeue(out var clause))
        {
            return false;
        }

        clause.StartedAt = at;
        _current = clause;
        turn.Played.Add(clause);
        _animator.Speak(new SpeechClip(at, clause.Cues, clause.Source.Audio, clause.Source.SampleRate));
        if (!turn.Started)
        {
            turn.Started = true;
            turn.StartedAt = at;
            turn.FirstAudioAt = at;
            turn.FirstVoiceAt = at + clause.FirstVoice;
            _listening?.Turns.ReplicaStartedSpeaking();
            Emit(SessionEventTypes.ReplicaStartedSpeaking, turn.TurnIdx, turn.InferenceId, at, e => e with { Model = turn.Model });
        }

        return true;
    }

    private void SpeakRemainder(PlayingClause clause, TimeSpan at)
    {
        var skipped = MediaTime.FromSamples(clause.Offset48, AudioFormat.Output48k.SampleRate).TotalSeconds;
        var src = clause.Source;
        var srcOffset = (int)Math.Min(src.Audio.Length, (long)clause.Offset48 * src.SampleRate / AudioFormat.Output48k.SampleRate);
        var cues = clause.Cues.Where(c => c.End > skipped).Select(c => new VisemeCue(c.Viseme, Math.Max(0, c.Start - skipped), c.End - skipped)).ToList();
        _animator.Speak(new SpeechClip(at, cues, src.Audio.AsSpan(srcOffset), src.SampleRate));
    }

    private async ValueTask EmitVideoAsync(TimeSpan at)
    {
        _animator.Evaluate(at, _weights);
        var frame = _compositor!.Compose(_weights, at);
        if (_speaking is { FirstMouthAt: null, FirstVoiceAt: { } voice } turn && at >= voice && _weights[(int)Blendshape.JawOpen] > 0.05f)
        {
            turn.FirstMouthAt = at;
        }

        if (_videoFramesOut % 150 == 0)
        {
            _animator.Forget(at - TimeSpan.FromSeconds(10));
        }

        var item = new VideoOutputItem(frame);
        if (_options.DropVideoWhenSinkIsSlow)
        {
            if (!_output.Writer.TryWrite(item))
            {
                item.Dispose();
                Interlocked.Increment(ref _droppedFrames);
            }

            return;
        }

        await WriteAsync(item).ConfigureAwait(false);
    }

    private void Measure(ReplicaTurn turn)
    {
        turn.MouthMeasured = true;
        if (turn.IsEcho || turn.FromApp)
        {
            return;
        }

        TimeSpan? From(TimeSpan? t) => t is { } v ? v - turn.SpeechEnd : null;
        // The LLM's clock is the wall clock; in live sessions media time follows it, so this places the first token on the timeline.
        TimeSpan? token = turn.FirstTokenElapsed is { } ft ? turn.LlmStartMedia + ft : turn.FirstClauseSeen;
        var m = new TurnMetrics(turn.TurnIdx, turn.InferenceId, turn.SpeechEnd, From(turn.FloorAt), From(turn.AsrFinalAt), From(token),
            From(turn.FirstAudioAt), From(turn.FirstMouthAt), turn.Speculative);
        lock (_metricsGate)
        {
            _metrics.Add(m);
        }

        SessionMetrics.Record(m);
    }

    // ---------------------------------------------------------------- events and the sender

    private void Emit(string type, int turnIdx, string? inferenceId, TimeSpan at, Func<SessionEvent, SessionEvent>? fill = null)
    {
        var e = new SessionEvent(++_seq, type, Math.Max(0, turnIdx), inferenceId, at);
        if (fill is not null)
        {
            e = fill(e);
        }

        if (_overflow.Count > 0 || !_output.Writer.TryWrite(new EventOutputItem(e)))
        {
            // Events are never dropped: the loop waits for the sink (rare: the queue is long).
            _overflow.Enqueue(e);
        }
    }

    private readonly Queue<SessionEvent> _overflow = new();

    /// <summary>A control event (<see cref="SessionEventTypes.Flush"/>): in order with the output, outside the conversation's seq.</summary>
    private void EmitControl(string type, int turnIdx, string? inferenceId, TimeSpan at)
    {
        var e = new SessionEvent(0, type, Math.Max(0, turnIdx), inferenceId, at);
        if (_overflow.Count > 0 || !_output.Writer.TryWrite(new EventOutputItem(e)))
        {
            _overflow.Enqueue(e);
        }
    }

    private void Error(string code, string message, string? inferenceId, int? turnIdx = null)
    {
        SessionMetrics.Error(code);
        LogSessionError(_logger, code, message);
        Emit(SessionEventTypes.Error, turnIdx ?? Math.Max(0, _turnIdx), inferenceId, _clock, e => e with { ErrorCode = code, Text = message });
    }

    private async ValueTask WriteAsync(OutputItem item)
    {
        while (_overflow.TryDequeue(out var e))
        {
            await _output.Writer.WriteAsync(new EventOutputItem(e), _stop.Token).ConfigureAwait(false);
        }

        await _output.Writer.WriteAsync(item, _stop.Token).ConfigureAwait(false);
    }

    private async Task SendLoopAsync()
    {
        await foreach (var item in _output.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            try
            {
                switch (item)
                {
                    case VideoOutputItem v:
                        await _sink.SendVideoAsync(v.Frame, _stop.Token).ConfigureAwait(false);
                        break;
                    case AudioOutputItem a:
                        await _sink.SendAudioAsync(a.Frame, _stop.Token).ConfigureAwait(false);
                        break;
                    case EventOutputItem e:
                        await _sink.SendEventAsync(e.Event, _stop.Token).ConfigureAwait(false);
                        break;
                }
            }
            catch (Exception ex)
            {
                // A failing transport must not stop the conversation.
                LogSinkFailed(_logger, ex);
            }
        }
    }

    private static string Snake(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));

    [LoggerMessage(Level = LogLevel.Error, Message = "Session step failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Session error {Code}: {Message}")]
    private static partial void LogSessionError(ILogger logger, string code, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The media sink failed")]
    private static partial void LogSinkFailed(ILogger logger, Exception exception);
}
