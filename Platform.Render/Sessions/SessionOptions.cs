using Platform.Render.Audio;
using Platform.Render.Face;
using Platform.Render.Perception;
using Platform.Render.Speech;

namespace Platform.Render.Sessions;

public enum SessionMode
{
    /// <summary>Listen, think with the LLM, speak.</summary>
    Conversation,

    /// <summary>Speak only the text given through <see cref="ConversationSession.SayAsync"/>; no LLM.</summary>
    Echo,
}

/// <summary>Per-conversation settings (Render-local until Contracts carries the persona and conversation properties).</summary>
public sealed class SessionOptions
{
    public SessionMode Mode { get; init; } = SessionMode.Conversation;

    /// <summary><c>audio_only</c>: no video frames are rendered or sent.</summary>
    public bool AudioOnly { get; init; }

    public int Width { get; init; } = 1280;

    public int Height { get; init; } = 720;

    public int FramesPerSecond { get; init; } = 30;

    /// <summary>Overrides the look's background with a green screen (<c>apply_greenscreen</c>).</summary>
    public bool GreenScreen { get; init; }

    /// <summary>The face backend. The scanline rasterizer is the CPU default (≈ 5× faster than Skia's
    /// <c>DrawVertices</c> at the same look); Skia and the ONNX graph stay selectable.</summary>
    public FaceRendererKind FaceRenderer { get; init; } = FaceRendererKind.Raster;

    /// <summary>Spoken at the start (<c>custom_greeting</c>); null or empty says nothing.</summary>
    public string? Greeting { get; init; }

    /// <summary>The client's audio format (16-bit PCM).</summary>
    public AudioFormat InputFormat { get; init; } = AudioFormat.Speech16k;

    public TurnTakingOptions TurnTaking { get; init; } = new();

    public VadOptions? Vad { get; init; }

    /// <summary>Seeds the idle animation (blinks, head motion).</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Input chunks queued before <see cref="ConversationSession.PushAudioAsync"/> waits.</summary>
    public int InputCapacity { get; init; } = 64;

    /// <summary>Output items (frames and events) queued for the sink.</summary>
    public int OutputCapacity { get; init; } = 96;

    /// <summary>
    /// When the sink falls behind and the output queue is full, drop video frames instead of waiting (live
    /// transports); audio and events always wait. Tests that check every frame turn this off.
    /// </summary>
    public bool DropVideoWhenSinkIsSlow { get; init; } = true;

    /// <summary>
    /// Turns from before this session (a conversation moved to this worker after a failover): the first LLM request
    /// carries them as history. Oldest first.
    /// </summary>
    public IReadOnlyList<PriorMessage> History { get; init; } = [];

    /// <summary>The last <c>seq</c> already published for this conversation: events continue from the next one.</summary>
    public long PreviousSeq { get; init; }

    /// <summary>The last <c>turn_idx</c> already used (-1: none): turns continue from the next one.</summary>
    public int PreviousTurnIdx { get; init; } = -1;

    /// <summary>
    /// Removes the replica's own voice from the microphone (echo-aware barge-in) using the audio sent and the page's
    /// playback reports. On by default; harmless when there is no echo.
    /// </summary>
    public bool CancelEcho { get; init; } = true;

    /// <summary>
    /// Start the speculative LLM call at the first silent frame of a pause (on the ASR's running hypothesis) rather
    /// than when the VAD declares the pause: ≈ 100 ms sooner, at the price of more requests aborted when the user goes
    /// on (they may cost prompt tokens on a paid endpoint). Default on.
    /// </summary>
    public bool SpeculateAtFirstSilence { get; init; } = true;
}

/// <summary>One message of a conversation's earlier history: <c>user</c> or <c>replica</c> (<c>assistant</c>) and what was said.</summary>
public sealed record PriorMessage(string Role, string Text);

/// <summary>What sessions share on a worker: the VAD model, the ASR engine, the TTS voice and the face asset.</summary>
public sealed record SessionResources(SileroVadModel Vad, ISpeechRecognizer Recognizer, ISpeechSynthesizer Synthesizer, FaceAsset? Face);
