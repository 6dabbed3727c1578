namespace Platform.Render.Speech;

/// <summary>
/// Speech-to-text engine. Shared by conversations; each conversation opens its own <see cref="IRecognitionStream"/>
/// (for PocketSphinx that is its own decoder: decoders are not thread-safe).
/// </summary>
public interface ISpeechRecognizer : IDisposable
{
    string Name { get; }

    /// <summary>Opens a stream; failures come back as an exception-free result.</summary>
    ValueTask<(IRecognitionStream? Stream, SpeechError? Error)> OpenStreamAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// One conversation's recogniser. Calls must not overlap (the pipeline's ASR stage is a single reader).
/// Audio is 16 kHz mono; times are media times of the stream.
/// </summary>
public interface IRecognitionStream : IAsyncDisposable
{
    /// <summary>Starts an utterance whose first sample is at <paramref name="mediaStart"/>.</summary>
    void BeginUtterance(TimeSpan mediaStart);

    /// <summary>Feeds audio; returns a partial when the hypothesis changed (engines without partials return null).</summary>
    ValueTask<Transcript?> AcceptAsync(ReadOnlyMemory<short> pcm16k, CancellationToken cancellationToken = default);

    /// <summary>
    /// The current hypothesis of the open utterance over all audio fed so far, without ending it (for a speculative
    /// LLM start at the first silent frame); null when the engine has none or no utterance is open.
    /// </summary>
    ValueTask<Transcript?> PeekAsync(CancellationToken cancellationToken = default) => new((Transcript?)null);

    /// <summary>Ends the utterance and returns the final transcript with word times (media time), or an error.</summary>
    ValueTask<RecognitionResult> EndUtteranceAsync(CancellationToken cancellationToken = default);
}
