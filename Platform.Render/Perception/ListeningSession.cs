using Platform.Render.Audio;
using Platform.Render.Speech;

namespace Platform.Render.Perception;

public enum PerceptionEventKind
{
    /// <summary>See <see cref="TurnSignal"/>; <see cref="PerceptionEvent.Decision"/> is set.</summary>
    Turn,

    /// <summary>A partial transcript of the user's current turn (all segments so far).</summary>
    Partial,

    /// <summary>The whole user turn once the floor is yielded: final text and word times.</summary>
    UserTurnFinal,

    /// <summary>A stage failed; the session goes on (the ASR is reopened on the next speech).</summary>
    Error,

    /// <summary>
    /// The first silent frame inside the user's speech (raw VAD probability dropped, before the VAD's hangover
    /// declares the pause): <see cref="PerceptionEvent.Text"/> is the ASR's hypothesis so far. A speculative LLM call
    /// may start here; <see cref="SpeechResumed"/> or a different final at the pause discards it.
    /// </summary>
    SilenceBegan,

    /// <summary>Voiced frames came back after <see cref="SilenceBegan"/> before the VAD declared a pause.</summary>
    SpeechResumed,
}

/// <summary>
/// What the listening side of a conversation noticed, stamped with media time. <see cref="Text"/> is the user's
/// turn so far (for <see cref="PerceptionEventKind.Turn"/> too: it is what a speculative LLM call should use).
/// </summary>
public sealed record PerceptionEvent(
    PerceptionEventKind Kind,
    TimeSpan At,
    string Text,
    TurnDecision? Decision = null,
    IReadOnlyList<WordTiming>? Words = null,
    SpeechError? Error = null);

/// <summary>
/// The user-audio half of a conversation: raw client audio → 16 kHz → Silero VAD → ASR (only while the user
/// talks, with a short pre-roll; each pause closes a segment so its final is ready when the floor decision
/// comes) → turn-taking. One per conversation; calls must not overlap. Nothing here reads the wall clock.
/// </summary>
public sealed class ListeningSession : IAsyncDisposable
{
    private static readonly TimeSpan PreRoll = TimeSpan.FromMilliseconds(200);

    private readonly AudioInput _input;
    private readonly VoiceActivityDetector _vad;
    private readonly IRecognitionStream _asr;
    private readonly TurnTaker _turns;
    private readonly short[] _preRoll = new short[(int)MediaTime.ToSamples(PreRoll, 16_000)];
    private readonly List<WordTiming> _words = [];
    private readonly List<PerceptionEvent> _events = [];
    private int _preRollLength;
    private bool _asrOpen;
    private bool _silenceBegan; // SilenceBegan published for the current VAD speech segment
    private string _said = string.Empty;  // finals of the closed segments of this turn
    private string _partial = string.Empty;
    private TimeSpan _position;

    private readonly EchoCanceller? _echo;
    private short[] _scratch = [];

    public ListeningSession(AudioFormat format, SileroVadModel vad, IRecognitionStream asr, TurnTakingOptions? options = null, VadOptions? vadOptions = null, EchoCanceller? echo = null)
    {
        _echo = echo;
        _input = new AudioInput(format);
        _vad = new VoiceActivityDetector(vad, vadOptions);
        _asr = asr;
        _turns = new TurnTaker(options);
    }

    public TurnTaker Turns => _turns;

    /// <summary>Set when the declared input format is unusable (then all input is ignored).</summary>
    public string? InputError => _input.Error;

    /// <summary>Silero's speech probability for the latest 32 ms frame (before hysteresis: the earliest hint of speech).</summary>
    public float SpeechProbability { get; private set; }

    /// <summary>Media time of the audio consumed so far.</summary>
    public TimeSpan Position => _position;

    /// <summary>Feeds raw client bytes in the declared format; returns what they caused (valid until the next call).</summary>
    public async ValueTask<IReadOnlyList<PerceptionEvent>> PushAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
    {
        _events.Clear();
        using var frame = _input.Push(bytes.Span);
        if (frame is null) return _events;
        await ProcessAsync(frame.Memory, cancellationToken).ConfigureAwait(false);
        return _events;
    }

    /// <summary>Feeds 16 kHz mono samples directly.</summary>
    public async ValueTask<IReadOnlyList<PerceptionEvent>> PushSpeechAsync(ReadOnlyMemory<short> pcm16k, CancellationToken cancellationToken = default)
    {
        _events.Clear();
        await ProcessAsync(pcm16k, cancellationToken).ConfigureAwait(false);
        return _events;
    }

    private async ValueTask ProcessAsync(ReadOnlyMemory<short> pcm, CancellationToken cancellationToken)
    {
        if (_echo is not null && !pcm.IsEmpty)
        {
            // The replica's own voice leaking into the microphone is removed before anything listens.
            if (_scratch.Length < pcm.Length) _scratch = new short[pcm.Length];
            var copy = _scratch.AsMemory(0, pcm.Length);
            pcm.CopyTo(copy);
            _echo.Process(_position, copy.Span);
            pcm = copy;
        }

        // The VAD cuts 32 ms frames; feed the ASR the same audio in the same order, frame by frame, so that its
        // state at each VAD decision covers exactly the audio up to that frame.
        var decisions = _vad.Push(pcm.Span).ToArray();
        var offset = 0;
        foreach (var frame in decisions)
        {
            SpeechProbability = frame.Probability;
            var frameStartInChunk = (int)MediaTime.ToSamples(frame.FrameStart - _position, 16_000);
            var frameEndInChunk = Math.Clamp(frameStartInChunk + SileroVadModel.FrameLength, 0, pcm.Length);
            var audio = pcm[offset..frameEndInChunk];
            offset = frameEndInChunk;
            await OnFrameAsync(frame, audio, cancellationToken).ConfigureAwait(false);
        }
        var tail = pcm[offset..];
        if (_asrOpen) await FeedAsync(tail, cancellationToken).ConfigureAwait(false);
        Remember(tail.Span);
        _position += MediaTime.FromSamples(pcm.Length, 16_000);
    }

    private async ValueTask OnFrameAsync(VadFrame frame, ReadOnlyMemory<short> audio, CancellationToken cancellationToken)
    {
        if (frame.Event == VadEventKind.SpeechStarted && !_asrOpen)
        {
            // Open a segment with the pre-roll so the first phones are not lost to the VAD's onset delay.
            var preRollStart = frame.FrameEnd - MediaTime.FromSamples(_preRollLength + audio.Length, 16_000);
            _asr.BeginUtterance(preRollStart < TimeSpan.Zero ? TimeSpan.Zero : preRollStart);
            _asrOpen = true;
            await FeedAsync(_preRoll.AsMemory(0, _preRollLength), cancellationToken).ConfigureAwait(false);
        }
        if (_asrOpen) await FeedAsync(audio, cancellationToken).ConfigureAwait(false);
        Remember(audio.Span);

        if (frame.Event == VadEventKind.None && frame.InSpeech && _asrOpen && _turns.UserHoldsTurn)
        {
            var silent = frame.LastVoiced < frame.FrameEnd;
            if (silent && !_silenceBegan)
            {
                _silenceBegan = true;
                var peek = await _asr.PeekAsync(cancellationToken).ConfigureAwait(false);
                var text = Join(_said, peek?.Text.Trim() ?? string.Empty);
                if (text.Length > 0) _events.Add(new PerceptionEvent(PerceptionEventKind.SilenceBegan, frame.FrameEnd, text));
            }
            else if (!silent && _silenceBegan)
            {
                _silenceBegan = false;
                _events.Add(new PerceptionEvent(PerceptionEventKind.SpeechResumed, frame.FrameEnd, Turn()));
            }
        }

        if (frame.Event != VadEventKind.None) _silenceBegan = false;

        if (frame.Event == VadEventKind.SpeechEnded && _asrOpen)
        {
            _asrOpen = false;
            var result = await _asr.EndUtteranceAsync(cancellationToken).ConfigureAwait(false);
            if (!result.Ok) _events.Add(new PerceptionEvent(PerceptionEventKind.Error, frame.FrameEnd, Turn(), Error: result.Error));
            var heard = WithoutWordsAfter(result.Transcript, frame.EventTime);
            _said = Join(_said, heard.Text);
            _words.AddRange(heard.Words);
            _partial = string.Empty;
            _turns.OnTranscript(_said);
        }

        foreach (var decision in _turns.OnVadFrame(frame))
        {
            if (decision.Signal is TurnSignal.UserStartedSpeaking)
            {
                _said = string.Empty;
                _partial = string.Empty;
                _words.Clear();
            }
            _events.Add(new PerceptionEvent(PerceptionEventKind.Turn, decision.At, decision.Transcript, decision));
            if (decision.Signal == TurnSignal.FloorYielded)
                _events.Add(new PerceptionEvent(PerceptionEventKind.UserTurnFinal, decision.At, _said, decision, _words.ToArray()));
        }
    }

    private async ValueTask FeedAsync(ReadOnlyMemory<short> audio, CancellationToken cancellationToken)
    {
        if (audio.IsEmpty) return;
        var partial = await _asr.AcceptAsync(audio, cancellationToken).ConfigureAwait(false);
        if (partial is null) return;
        _partial = partial.Text;
        var text = Turn();
        _turns.OnTranscript(text);
        _events.Add(new PerceptionEvent(PerceptionEventKind.Partial, _position, text));
    }

    private string Turn() => Join(_said, _partial);

    /// <summary>
    /// The transcript less its trailing words that begin after <paramref name="speechEnd"/> (the end of the last voiced
    /// frame). The recogniser is fed on through the VAD's closing silence, and out of a breath or the room's noise
    /// there it sometimes makes a short word ("…a ticket to"); a sentence ending like that would wait the long silence
    /// of an unfinished one, and the LLM would read a word nobody said. At least one word is always kept, and a
    /// transcript whose text does not end in those words (an engine whose timings and text differ) is left as it is.
    /// </summary>
    internal static Transcript WithoutWordsAfter(Transcript transcript, TimeSpan speechEnd)
    {
        var words = transcript.Words;
        var keep = words.Count;
        while (keep > 1 && words[keep - 1].Start >= speechEnd) keep--;
        var dropped = words.Count - keep;
        if (dropped == 0) return transcript;
        var tokens = transcript.Text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length <= dropped) return transcript;
        for (var i = 0; i < dropped; i++)
        {
            if (!string.Equals(tokens[tokens.Length - dropped + i], words[keep + i].Word, StringComparison.OrdinalIgnoreCase)) return transcript;
        }
        return transcript with { Text = string.Join(' ', tokens[..^dropped]), Words = [.. words.Take(keep)] };
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : b.Length == 0 ? a : a + " " + b;

    private void Remember(ReadOnlySpan<short> audio)
    {
        if (audio.Length >= _preRoll.Length)
        {
            audio[^_preRoll.Length..].CopyTo(_preRoll);
            _preRollLength = _preRoll.Length;
            return;
        }
        var keep = Math.Min(_preRollLength, _preRoll.Length - audio.Length);
        Array.Copy(_preRoll, _preRollLength - keep, _preRoll, 0, keep);
        audio.CopyTo(_preRoll.AsSpan(keep));
        _preRollLength = keep + audio.Length;
    }

    public async ValueTask DisposeAsync()
    {
        _vad.Dispose();
        await _asr.DisposeAsync().ConfigureAwait(false);
    }
}
