namespace Platform.Render.Perception;

public enum TurnSignal
{
    /// <summary>The user began a turn (not while the replica is talking: that is <see cref="BargeIn"/>).</summary>
    UserStartedSpeaking,

    /// <summary>Silence began after user speech: start the LLM speculatively with <see cref="TurnDecision.Transcript"/>.</summary>
    UserPaused,

    /// <summary>The user went on after a pause: discard the speculation.</summary>
    UserResumed,

    /// <summary>The floor is committed to the replica: it may speak (the speculation, if its input still matches).</summary>
    FloorYielded,

    /// <summary>The user talked over the replica long enough to interrupt it: stop audio and mouth, cancel the LLM.</summary>
    BargeIn,
}

/// <summary>
/// A turn-taking decision. <see cref="At"/> is the media time it was decided (the end of the frame that decided
/// it); <see cref="SpeechEnd"/> the end of the last voiced frame, from which latencies are measured.
/// </summary>
public sealed record TurnDecision(
    TurnSignal Signal,
    TimeSpan At,
    TimeSpan SpeechEnd,
    string Transcript,
    UtteranceShape Shape,
    TimeSpan RequiredSilence);

/// <summary>
/// Decides who has the floor, from VAD frames and the user's partial transcript, in media time only. One per
/// conversation; not thread-safe (the perception stage is a single reader).
/// </summary>
public sealed class TurnTaker(TurnTakingOptions? options = null)
{
    private enum State { Idle, UserSpeaking, UserPaused, ReplicaHasFloor }

    private readonly List<TurnDecision> _decisions = new(2);
    private State _state = State.Idle;
    private string _transcript = string.Empty;
    private TimeSpan _lastVoiced;
    private bool _replicaSpeaking;
    private TimeSpan? _overlapStart; // user speech start while the replica talks
    private bool _bargedIn;

    public TurnTakingOptions Options { get; } = options ?? new TurnTakingOptions();

    public string Transcript => _transcript;

    public bool ReplicaSpeaking => _replicaSpeaking;

    /// <summary>The user is talking with the floor (not over the replica, not paused).</summary>
    public bool UserHoldsTurn => _state == State.UserSpeaking && !_replicaSpeaking;

    /// <summary>While the replica talks: when the user's overlapping speech began (null when the user is silent).</summary>
    public TimeSpan? OverlapStart => _overlapStart;

    /// <summary>The latest partial or final transcript of the user's current turn.</summary>
    public void OnTranscript(string text) => _transcript = text.Trim();

    public void ReplicaStartedSpeaking()
    {
        _replicaSpeaking = true;
        _bargedIn = false;
        _overlapStart = null;
        _transcript = string.Empty; // words heard from now on decide a barge-in
    }

    public void ReplicaStoppedSpeaking()
    {
        _replicaSpeaking = false;
        _overlapStart = null;
    }

    /// <summary>Feeds one VAD frame; returns the decisions it causes (valid until the next call).</summary>
    public IReadOnlyList<TurnDecision> OnVadFrame(in VadFrame frame)
    {
        _decisions.Clear();
        if (frame.InSpeech) _lastVoiced = frame.LastVoiced;

        if (_replicaSpeaking)
        {
            CheckBargeIn(frame);
            return _decisions;
        }

        switch (frame.Event)
        {
            case VadEventKind.SpeechStarted when _state is State.Idle or State.ReplicaHasFloor:
                _state = State.UserSpeaking;
                _transcript = string.Empty;
                Emit(TurnSignal.UserStartedSpeaking, frame.EventTime, frame.EventTime);
                break;
            case VadEventKind.SpeechStarted when _state == State.UserPaused:
                _state = State.UserSpeaking;
                Emit(TurnSignal.UserResumed, frame.FrameEnd, _lastVoiced);
                break;
            case VadEventKind.SpeechEnded when _state == State.UserSpeaking:
                _state = State.UserPaused;
                _lastVoiced = frame.EventTime;
                Emit(TurnSignal.UserPaused, frame.FrameEnd, _lastVoiced);
                break;
        }

        if (_state == State.UserPaused && !frame.InSpeech)
        {
            var shape = UtteranceClassifier.Classify(_transcript);
            var required = Options.RequiredSilence(shape);
            if (frame.FrameEnd - _lastVoiced >= required)
            {
                _state = State.ReplicaHasFloor;
                _decisions.Add(new TurnDecision(TurnSignal.FloorYielded, frame.FrameEnd, _lastVoiced, _transcript, shape, required));
            }
        }
        return _decisions;
    }

    private void CheckBargeIn(in VadFrame frame)
    {
        if (_bargedIn) return;
        if (!frame.InSpeech)
        {
            _overlapStart = null;
            return;
        }
        _overlapStart ??= frame.Event == VadEventKind.SpeechStarted ? frame.EventTime : frame.FrameStart;
        var talked = frame.FrameEnd - _overlapStart.Value;
        var words = UtteranceClassifier.ContentWords(_transcript);
        var enough = talked >= Options.BargeInSpeech && words >= Options.BargeInWords
                     || talked >= Options.BargeInSpeechWithoutWords;
        if (!enough) return;
        _bargedIn = true;
        _replicaSpeaking = false;
        _state = State.UserSpeaking;
        Emit(TurnSignal.BargeIn, frame.FrameEnd, _overlapStart.Value);
        _transcript = string.Empty;
        Emit(TurnSignal.UserStartedSpeaking, frame.FrameEnd, _overlapStart.Value);
    }

    private void Emit(TurnSignal signal, TimeSpan at, TimeSpan speechEnd)
    {
        var shape = UtteranceClassifier.Classify(_transcript);
        _decisions.Add(new TurnDecision(signal, at, speechEnd, _transcript, shape, Options.RequiredSilence(shape)));
    }
}
