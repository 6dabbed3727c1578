using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Speech;

namespace Platform.Render.Sessions;

internal abstract record InputItem;

internal sealed record AudioInputItem(byte[] Bytes) : InputItem;

internal sealed record SayInputItem(string Text) : InputItem;

internal sealed record RespondInputItem(string Text) : InputItem;

internal sealed record InterruptInputItem : InputItem;

/// <summary>A piece of an app's own audio for the replica to say (<c>conversation.echo</c> with <c>audio</c>).</summary>
internal sealed record EchoAudioInputItem(short[] Pcm, int SampleRate, bool Done, string? InferenceId) : InputItem;

/// <summary>The page plays media time <paramref name="Position"/> now.</summary>
internal sealed record MicrophoneShiftInputItem(TimeSpan By) : InputItem;

internal sealed record PlaybackInputItem(TimeSpan Position, TimeSpan MicrophoneAhead, TimeSpan? Queued, TimeSpan? Starved) : InputItem;

internal abstract record OutputItem : IDisposable
{
    public virtual void Dispose()
    {
    }
}

internal sealed record VideoOutputItem(I420Frame Frame) : OutputItem
{
    public override void Dispose() => Frame.Dispose();
}

internal sealed record AudioOutputItem(PcmFrame Frame) : OutputItem
{
    public override void Dispose() => Frame.Dispose();
}

internal sealed record EventOutputItem(SessionEvent Event) : OutputItem;

/// <summary>What the LLM/TTS runner of a turn hands to the loop.</summary>
internal sealed record WorkerMessage(ReplicaTurn Turn, object Payload);

internal sealed record Synthesized(int Index, string Text, SynthesisResult Result);

internal sealed record WorkerFailed(string Code, string Message);

internal sealed record WorkerDone;

/// <summary>How a turn ended for the history: forgotten, or cut to what was spoken (null: all of it).</summary>
internal sealed record TurnFate(string? Spoken, bool Discard);

/// <summary>One replica answer (or echo). Fields are owned by the loop except the cancellation and the fate.</summary>
internal sealed class ReplicaTurn(string inferenceId, int turnIdx, string input, bool isEcho)
{
    private readonly CancellationTokenSource _cts = new();
    private readonly TaskCompletionSource<TurnFate> _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string InferenceId { get; } = inferenceId;

    public int TurnIdx { get; } = turnIdx;

    public string Input { get; } = input;

    public bool IsEcho { get; } = isEcho;

    /// <summary>Set for an echo of the app's own audio (its pieces are queued by the loop as they arrive): the stream's loudness.</summary>
    public StreamLoudness? FedAudio { get; init; }

    /// <summary>Media time at which the audio fed so far would have played out if it started on arrival.</summary>
    public TimeSpan FeedPlaysUntil { get; set; }

    /// <summary>Audio queued in <see cref="Ready"/>, not yet playing.</summary>
    public TimeSpan ReadyDuration => TimeSpan.FromTicks(Ready.Sum(c => c.Source.Duration.Ticks));

    public string? Model { get; set; }

    public bool Speculative { get; init; }

    /// <summary>Started by the app (<c>conversation.respond</c>): no user speech to measure latency from.</summary>
    public bool FromApp { get; init; }

    /// <summary>Clauses in the order they started playing.</summary>
    public List<PlayingClause> Played { get; } = [];

    /// <summary>Per 20 ms output frame with this turn's voice: the frame's end, the clause playing and its read position.</summary>
    public List<(TimeSpan End, int Clause, int Offset48)> Progress { get; } = [];

    public bool Committed { get; set; }

    public Task Runner { get; set; } = Task.CompletedTask;

    public CancellationToken Token => _cts.Token;

    public bool Cancelled { get; private set; }

    public TurnFate? Fate { get; private set; }

    public Task<TurnFate> Settled => _settled.Task;

    public Queue<PlayingClause> Ready { get; } = new();

    /// <summary>LLM errors of a speculation, published only if it is committed.</summary>
    public List<Thinking.LlmError> HeldErrors { get; } = [];

    /// <summary>Tool calls of a speculation, published only if it is committed (the app runs them).</summary>
    public List<Thinking.LlmToolCall> HeldToolCalls { get; } = [];

    public List<string> SpokenClauses { get; } = [];

    public bool WorkerDone { get; set; }

    public bool Started { get; set; }

    public TimeSpan StartedAt { get; set; }

    // Metrics, media time.
    public TimeSpan SpeechEnd { get; set; }

    public TimeSpan? FloorAt { get; set; }

    public TimeSpan? AsrFinalAt { get; set; }

    public TimeSpan LlmStartMedia { get; init; }

    public TimeSpan? FirstTokenElapsed { get; set; }

    public TimeSpan? FirstClauseSeen { get; set; }

    public TimeSpan? FirstAudioAt { get; set; }

    public TimeSpan? FirstVoiceAt { get; set; }

    public TimeSpan? FirstMouthAt { get; set; }

    public bool MouthMeasured { get; set; }

    /// <summary>Stops the runner (aborting the LLM request) and decides the history's fate.</summary>
    public void Cancel(string? spoken, bool discard)
    {
        Cancelled = true;
        Fate ??= new TurnFate(spoken, discard);
        Settle(Fate.Spoken, Fate.Discard);
        try
        {
            _cts.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Nothing more will be queued for this turn (its runner finished, or the app's audio ended); a cancelled one is settled.</summary>
    public void MarkWorkerDone()
    {
        WorkerDone = true;
        if (Cancelled)
        {
            Settle(Fate?.Spoken, Fate?.Discard ?? true);
        }
    }

    public void Settle(string? spoken, bool discard)
    {
        Fate ??= new TurnFate(spoken, discard);
        _settled.TrySetResult(Fate);
    }
}

/// <summary>A synthesised clause being played: 48 kHz audio with a read position, and its visemes for the face.</summary>
internal sealed class PlayingClause
{
    public PlayingClause(string text, SynthesisResult source)
    {
        Text = text;
        Source = source;
        Audio48 = source.SampleRate == AudioFormat.Output48k.SampleRate
            ? source.Audio
            : new Resampler(source.SampleRate, AudioFormat.Output48k.SampleRate).Process(source.Audio);
        Cues = source.Phonemes.Count > 0
            ? [.. source.Phonemes.Where(p => p.End > p.Start).Select(p => new VisemeCue(Face.Visemes.FromArpabet(p.Phone), p.Start.TotalSeconds, p.End.TotalSeconds))]
            : [.. source.Visemes.Where(v => v.End > v.Start).Select(v => new VisemeCue(v.Viseme, v.Start.TotalSeconds, v.End.TotalSeconds))];
        var voiced = Cues.FirstOrDefault(c => c.Viseme != Face.Viseme.Silence);
        FirstVoice = TimeSpan.FromSeconds(voiced == default ? 0 : voiced.Start);
    }

    public string Text { get; }

    public SynthesisResult Source { get; }

    public short[] Audio48 { get; }

    public int Offset48 { get; set; }

    public IReadOnlyList<VisemeCue> Cues { get; }

    /// <summary>Where the first non-silent viseme starts in the clause.</summary>
    public TimeSpan FirstVoice { get; }

    public TimeSpan StartedAt { get; set; }
}
