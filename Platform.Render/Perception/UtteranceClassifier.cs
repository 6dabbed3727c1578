namespace Platform.Render.Perception;

/// <summary>Rules on the (partial) transcript: does the user sound finished, and are they asking?</summary>
public static class UtteranceClassifier
{
    private static readonly HashSet<string> Fillers = new(StringComparer.Ordinal)
    {
        "um", "umm", "uh", "uhh", "er", "erm", "ah", "hmm", "mm", "like", "so", "well",
    };

    private static readonly HashSet<string> Dangling = new(StringComparer.Ordinal)
    {
        // conjunctions and subordinators
        "and", "but", "or", "nor", "because", "cause", "since", "although", "though", "if", "unless", "when", "while",
        "whereas", "that", "which", "who", "whose", "whom", "where", "than", "as", "until", "till",
        // articles, determiners, possessives
        "the", "a", "an", "my", "your", "his", "her", "our", "their", "its", "this", "these", "those", "some", "any",
        "every", "each", "no", "another", "such",
        // prepositions and the infinitive marker
        "to", "of", "in", "on", "at", "for", "with", "from", "by", "about", "into", "onto", "over", "under",
        "after", "before", "between", "through", "during", "without", "within", "toward", "towards", "via", "per",
        // auxiliaries and modals, subject pronouns
        "is", "are", "was", "were", "am", "be", "been", "being", "have", "has", "had", "do", "does", "did", "will",
        "would", "can", "could", "should", "might", "must", "shall", "may", "i", "we", "they", "he", "she",
        "i'm", "we're", "they're", "it's", "i'll", "we'll", "i'd", "gonna", "wanna", "let's",
        // intensifiers that need a head
        "very", "really", "more", "most", "quite", "pretty",
    };

    private static readonly HashSet<string> QuestionStarts = new(StringComparer.Ordinal)
    {
        "what", "what's", "where", "where's", "when", "why", "who", "who's", "how", "how's", "which", "whose",
        "is", "are", "was", "were", "do", "does", "did", "can", "could", "would", "will", "should", "shall", "may",
        "have", "has", "had", "isn't", "aren't", "don't", "doesn't", "didn't", "can't", "won't", "wouldn't",
    };

    private static readonly HashSet<string> Backchannels = new(StringComparer.Ordinal)
    {
        "yeah", "yes", "yep", "yup", "ok", "okay", "right", "sure", "mhm", "mm", "hmm", "uh", "huh", "um", "ah",
        "oh", "i", "see", "alright", "cool", "nice", "wow", "really",
    };

    public static UtteranceShape Classify(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return UtteranceShape.Unknown;
        var trimmed = text.TrimEnd();
        var words = Words(trimmed);
        if (words.Length == 0) return UtteranceShape.Unknown;
        var last = words[^1];
        if (trimmed.EndsWith(',') || trimmed.EndsWith("...", StringComparison.Ordinal) || trimmed.EndsWith('-'))
            return UtteranceShape.Incomplete;
        if (Fillers.Contains(last)) return UtteranceShape.Incomplete;
        if (Dangling.Contains(last) && !EndsEmbeddedClause(words)) return UtteranceShape.Incomplete;
        if (words.Length >= 2 && words[^1] == "then" && words[^2] is "and" or "so" or "but") return UtteranceShape.Incomplete;
        if (trimmed.EndsWith('?')) return UtteranceShape.Question;
        // ASR gives no punctuation: a clause opening with a question word or an inverted auxiliary is a question.
        var first = Array.FindIndex(words, w => !Fillers.Contains(w) && w is not "and" and not "but" and not "so" and not "oh");
        if (first >= 0 && words.Length - first >= 3 && QuestionStarts.Contains(words[first])) return UtteranceShape.Question;
        return UtteranceShape.Statement;
    }

    private static readonly HashSet<string> StrandedVerbs = new(StringComparer.Ordinal)
    {
        "is", "are", "was", "were", "am", "be", "do", "does", "did", "can", "could", "will", "would", "should", "have", "has", "had",
    };

    private static readonly HashSet<string> WhWords = new(StringComparer.Ordinal)
    {
        "what", "where", "who", "how", "when", "why", "which", "whether", "if",
    };

    /// <summary>
    /// "can you tell me where the station is", "I know what it was": a verb stranded at the end of an embedded
    /// wh-clause closes the sentence. A wh-word in first position ("what I mean is") does not count.
    /// </summary>
    private static bool EndsEmbeddedClause(string[] words)
    {
        if (!StrandedVerbs.Contains(words[^1])) return false;
        for (var i = words.Length - 2; i >= 1 && i >= words.Length - 7; i--)
            if (WhWords.Contains(words[i])) return i < words.Length - 1 && i > 0 && !WhWords.Contains(words[0]);
        return false;
    }

    /// <summary>Words that are not backchannels ("yeah", "uh huh", "okay").</summary>
    public static int ContentWords(string? text) => string.IsNullOrWhiteSpace(text) ? 0 : Words(text).Count(w => !Backchannels.Contains(w));

    internal static string[] Words(string text) =>
        new string(text.ToLowerInvariant().Select(c => char.IsLetterOrDigit(c) || c == '\'' ? c : ' ').ToArray())
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
