using System.Globalization;
using System.Text;

namespace Platform.Render.Speech;

/// <summary>Cleans text for an English synthesiser and cuts it into clauses.</summary>
public static class SpeakableText
{
    /// <summary>Longest clause a synthesiser is asked to say at once.</summary>
    public const int MaxClauseChars = 400;

    /// <summary>
    /// ASCII letters, digits and punctuation only (accents folded, emoji and control characters dropped), spaces
    /// collapsed. Returns an empty string when nothing speakable is left.
    /// </summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text)) return string.Empty;
        var decomposed = text.Normalize(NormalizationForm.FormD);
        var sb = new StringBuilder(decomposed.Length);
        var lastSpace = true;
        foreach (var ch in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(ch);
            if (category == UnicodeCategory.NonSpacingMark) continue;
            char c;
            if (ch < 128 && !char.IsControl(ch)) c = ch;
            else if (ch is '\u2018' or '\u2019') c = '\'';
            else if (ch is '\u201C' or '\u201D') c = '"';
            else if (ch is '\u2013' or '\u2014') c = ',';
            else c = ' ';
            if (char.IsWhiteSpace(c))
            {
                if (!lastSpace) sb.Append(' ');
                lastSpace = true;
                continue;
            }
            sb.Append(c);
            lastSpace = false;
        }
        var cleaned = sb.ToString().Trim();
        return cleaned.Any(char.IsLetterOrDigit) ? cleaned : string.Empty;
    }
}

/// <summary>Splits text into clauses at sentence and clause punctuation, never longer than a limit.</summary>
public static class ClauseSplitter
{
    public static IEnumerable<string> Split(string? text, int maxChars = SpeakableText.MaxClauseChars)
    {
        var clean = SpeakableText.Clean(text);
        if (clean.Length == 0) yield break;
        var start = 0;
        for (var i = 0; i < clean.Length; i++)
        {
            var c = clean[i];
            var boundary = c is '.' or '!' or '?' or ';' or ':' || (c == ',' && i - start >= 24);
            // A boundary only when followed by a space or the end ("3.5" and "e.g." stay whole enough).
            if (boundary && (i + 1 == clean.Length || clean[i + 1] == ' '))
            {
                foreach (var piece in Cut(clean[start..(i + 1)], maxChars)) yield return piece;
                start = i + 1;
            }
        }
        if (start < clean.Length)
            foreach (var piece in Cut(clean[start..], maxChars)) yield return piece;
    }

    private static IEnumerable<string> Cut(string clause, int maxChars)
    {
        clause = clause.Trim();
        while (clause.Length > maxChars)
        {
            var cut = clause.LastIndexOf(' ', maxChars);
            if (cut <= 0) cut = maxChars;
            var head = clause[..cut].Trim();
            if (head.Any(char.IsLetterOrDigit)) yield return head;
            clause = clause[cut..].Trim();
        }
        if (clause.Any(char.IsLetterOrDigit)) yield return clause;
    }
}
