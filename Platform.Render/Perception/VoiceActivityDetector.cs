using Platform.Render.Audio;

namespace Platform.Render.Perception;

public sealed record VadOptions
{
    /// <summary>Probability at which a frame counts as speech onset.</summary>
    public float OnThreshold { get; init; } = 0.5f;

    /// <summary>Probability under which a frame counts as silence (hysteresis).</summary>
    public float OffThreshold { get; init; } = 0.35f;

    /// <summary>Speech shorter than this (clicks, coughs) is not a start.</summary>
    public TimeSpan MinSpeech { get; init; } = TimeSpan.FromMilliseconds(64);

    /// <summary>Silence needed before speech is declared over (turn-taking waits longer on top of it).</summary>
    public TimeSpan MinSilence { get; init; } = TimeSpan.FromMilliseconds(96);
}

public enum VadEventKind { None, SpeechStarted, SpeechEnded }

/// <summary>
/// One analysed 32 ms frame. <see cref="Event"/> is set on the frame where speech is decided to have started or
/// ended; <see cref="EventTime"/> is when it truly did (onset of the first speech frame, end of the last one), which
/// lies before <see cref="FrameEnd"/>, the media time of the decision.
/// </summary>
public readonly record struct VadFrame(
    TimeSpan FrameStart,
    float Probability,
    bool InSpeech,
    VadEventKind Event,
    TimeSpan EventTime,
    TimeSpan LastVoiced)
{
    public TimeSpan FrameEnd => FrameStart + SileroVadModel.FrameDuration;
}

/// <summary>
/// Silero probabilities with hysteresis into speech segments, for one stream of 16 kHz mono audio in any chunking.
/// </summary>
public sealed class VoiceActivityDetector : IDisposable
{
    private readonly SileroVadStream _stream;
    private readonly VadOptions _options;
    private readonly FrameChunker _chunker = new(SileroVadModel.FrameSamples);
    private readonly List<VadFrame> _results = new(8);
    private bool _inSpeech;
    private TimeSpan _candidateStart = TimeSpan.MinValue;
    private TimeSpan _lastVoicedEnd;

    public VoiceActivityDetector(SileroVadModel model, VadOptions? options = null)
    {
        _stream = model.CreateStream();
        _options = options ?? new VadOptions();
    }

    public bool InSpeech => _inSpeech;

    /// <summary>Analyses the samples; returns one result per completed 32 ms frame (valid until the next call).</summary>
    public IReadOnlyList<VadFrame> Push(ReadOnlySpan<short> pcm16k)
    {
        _results.Clear();
        _chunker.Push(pcm16k, (frame, start) => _results.Add(Analyse(frame, start)));
        return _results;
    }

    private VadFrame Analyse(ReadOnlySpan<short> frame, TimeSpan start)
    {
        var p = _stream.Process(frame);
        var end = start + SileroVadModel.FrameDuration;
        var evt = VadEventKind.None;
        var evtTime = TimeSpan.Zero;
        if (!_inSpeech)
        {
            if (p >= _options.OnThreshold)
            {
                if (_candidateStart == TimeSpan.MinValue) _candidateStart = start;
                if (end - _candidateStart >= _options.MinSpeech)
                {
                    _inSpeech = true;
                    _lastVoicedEnd = end;
                    evt = VadEventKind.SpeechStarted;
                    evtTime = _candidateStart;
                }
            }
            else if (p < _options.OffThreshold)
            {
                _candidateStart = TimeSpan.MinValue;
            }
        }
        else
        {
            if (p >= _options.OffThreshold) _lastVoicedEnd = end;
            else if (end - _lastVoicedEnd >= _options.MinSilence)
            {
                _inSpeech = false;
                _candidateStart = TimeSpan.MinValue;
                evt = VadEventKind.SpeechEnded;
                evtTime = _lastVoicedEnd;
            }
        }
        return new VadFrame(start, p, _inSpeech, evt, evtTime, _lastVoicedEnd);
    }

    public void Dispose() => _stream.Dispose();
}
