using System.Runtime.CompilerServices;

namespace Platform.Render.Speech;

/// <summary>Text-to-speech for one clause at a time; shared by conversations and safe to call concurrently.</summary>
public interface ISpeechSynthesizer : IDisposable
{
    string Name { get; }

    /// <summary>
    /// Synthesises one clause. Never throws for bad text: unspeakable or over-long text returns an error result.
    /// </summary>
    ValueTask<SynthesisResult> SynthesizeAsync(string clause, CancellationToken cancellationToken = default);
}

public static class SpeechSynthesizerExtensions
{
    /// <summary>Splits <paramref name="text"/> into clauses and synthesises them in order, so speech can start early.</summary>
    public static async IAsyncEnumerable<SynthesisResult> SpeakAsync(
        this ISpeechSynthesizer synthesizer, string text, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var clause in ClauseSplitter.Split(text))
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return await synthesizer.SynthesizeAsync(clause, cancellationToken).ConfigureAwait(false);
        }
    }
}
