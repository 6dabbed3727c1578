using System.Text;

namespace Platform.Render.Thinking;

/// <summary>Thresholds of the <see cref="ClauseSplitter"/>.</summary>
public sealed class ClauseSplitterOptions
{
    /// <summary>A sentence shorter than this (characters) is joined to the next one ("Yes." / "I see."). Default 8.</summary>
    public int MinSentenceChars { get; set; } = 8;

    /// <summary>A clause ending in , ; : or a dash is cut only when at least this long. Default 24.</summary>
    public int MinClauseChars { get; set; } = 24;

    /// <summary>
    /// The first clause of an answer may be cut at a clause mark once this long ("Sure," / "Well, let me see,"), so
    /// speech starts a few tokens sooner; null uses <see cref="MinClauseChars"/>. Default null.
    /// </summary>
    public int? FirstClauseMinChars { get; set; }

    /// <summary>Text running this long without any boundary is cut at the last space. Default 220.</summary>
    public int MaxClauseChars { get; set; } = 220;
}

/// <summary>
/// Cuts streamed LLM text into clauses that TTS can speak as soon as each is complete. Sentence ends
/// (<c>. ! ? …</c> and line breaks) cut when followed by whitespace; clause marks (<c>, ; : —</c>) cut once the
/// clause is long enough. It does not cut inside decimals (3.5), numbers (1,000), abbreviations (Mr., e.g., U.S.,
/// initials) or before a lowercase word, and joins very short fragments to what follows. Not thread-safe.
/// </summary>
public sealed class ClauseSplitter(ClauseSplitterOptions? options = null)
{
    private static readonly HashSet<string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "ltd", "co", "corp", "no", "nos",
        "approx", "dept", "est", "fig", "mt", "ft", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
        "oct", "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "gen", "col", "lt", "sgt", "capt",
        "gov", "sen", "rep", "rev", "ave", "blvd", "rd", "vol", "pp", "cf", "al",
    };

    private const string Closers = "\"'”’)]»";

    private readonly ClauseSplitterOptions _options = options ?? new ClauseSplitterOptions();
    private readonly StringBuilder _pending = new();
    private int _scan;
    private int _emitted; // clauses emitted since the last Reset/Complete

    /// <summary>Text received but not yet emitted as a clause.</summary>
    public string Pending => _pending.ToString();

    /// <summary>Adds streamed text; returns the clauses it completed (often none).</summary>
    public IReadOnlyList<string> Push(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return [];
        }

        _pending.Append(text);
        List<string>? clauses = null;
        while (TryCut(out var clause))
        {
            (clauses ??= []).Add(clause);
        }

        return clauses ?? (IReadOnlyList<string>)[];
    }

    /// <summary>Ends the stream: returns the remaining text as the last clause, or null when there is none.</summary>
    public string? Complete()
    {
        var rest = Normalize(_pending.ToString());
        Reset();
        return rest.Length == 0 ? null : rest;
    }

    /// <summary>Drops the pending text (after an error or an interruption).</summary>
    public void Reset()
    {
        _pending.Clear();
        _scan = 0;
        _emitted = 0;
    }

    private bool TryCut(out string clause)
    {
        clause = string.Empty;
        for (var i = _scan; i < _pending.Length; i++)
        {
            var c = _pending[i];
            int end; // exclusive end of the clause if we cut here
            switch (c)
            {
                case '\n':
                    end = i;
                    if (Emit(end, i + 1, _options.MinSentenceChars, out clause))
                    {
                        return true;
                    }

                    continue;
                case '.' or '!' or '?' or '…':
                {
                    var after = SkipClosers(i + 1);
                    if (after < _pending.Length && !char.IsWhiteSpace(_pending[after]))
                    {
                        continue; // 3.5, e.g, "?!", ...
                    }

                    if (c == '.' && IsAbbreviationOrInitial(i))
                    {
                        continue;
                    }

                    var next = SkipWhitespace(after);
                    if (next >= _pending.Length)
                    {
                        // Nothing visible after the mark yet. After an ordinary word, cut at once: waiting for the
                        // next token would cost the first clause a token of latency. After a number or a one-letter
                        // word, wait to see what follows (3.5, a.m.).
                        if (!EndsWithOrdinaryWord(i))
                        {
                            _scan = i;
                            return false;
                        }
                    }
                    else if (c == '.' && char.IsLower(_pending[next]))
                    {
                        continue; // "approx. five", "etc. and so on"
                    }

                    if (Emit(after, after, _options.MinSentenceChars, out clause))
                    {
                        return true;
                    }

                    continue;
                }

                case ',' or ';' or ':' or '—' or '–':
                {
                    var after = i + 1;
                    if (c is ',' or ';' or ':')
                    {
                        if (after >= _pending.Length && (i == 0 || !char.IsLetter(_pending[i - 1])))
                        {
                            // After a digit, wait for the next token (1,000 and 10:30); after a word, cut at once.
                            _scan = i;
                            return false;
                        }

                        if (after < _pending.Length && !char.IsWhiteSpace(_pending[after]))
                        {
                            continue; // 1,000 and 10:30
                        }
                    }

                    var min = _emitted == 0 ? _options.FirstClauseMinChars ?? _options.MinClauseChars : _options.MinClauseChars;
                    if (Emit(after, after, min, out clause))
                    {
                        return true;
                    }

                    continue;
                }
            }
        }

        _scan = _pending.Length;
        if (_pending.Length >= _options.MaxClauseChars)
        {
            var space = LastSpace(_pending.Length - 1);
            if (space > 0 && Emit(space, space, 1, out clause))
            {
                return true;
            }
        }

        return false;
    }

    private bool Emit(int end, int consumed, int minChars, out string clause)
    {
        clause = Normalize(_pending.ToString(0, end));
        if (clause.Length < minChars || !clause.Any(char.IsLetterOrDigit))
        {
            clause = string.Empty;
            return false;
        }

        _pending.Remove(0, consumed);
        _scan = 0;
        _emitted++;
        return true;
    }

    private int SkipClosers(int i)
    {
        while (i < _pending.Length && (Closers.Contains(_pending[i]) || _pending[i] is '.' or '!' or '?'))
        {
            i++;
        }

        return i;
    }

    private bool EndsWithOrdinaryWord(int mark)
    {
        var letters = 0;
        var i = mark - 1;
        while (i >= 0 && char.IsLetter(_pending[i]))
        {
            letters++;
            i--;
        }

        return letters >= 2 && (i < 0 || char.IsWhiteSpace(_pending[i]) || Closers.Contains(_pending[i]) || _pending[i] is '(' or '"' or '“' or '‘' or '-');
    }

    private int SkipWhitespace(int i)
    {
        while (i < _pending.Length && char.IsWhiteSpace(_pending[i]))
        {
            i++;
        }

        return i;
    }

    private int LastSpace(int from)
    {
        for (var i = from; i > 0; i--)
        {
            if (char.IsWhiteSpace(_pending[i]))
            {
                return i;
            }
        }

        return -1;
    }

    // The word ending at the '.' at index dot: "Mr", "e.g", "U.S", "J" (an initial).
    private bool IsAbbreviationOrInitial(int dot)
    {
        var start = dot;
        while (start > 0 && (char.IsLetter(_pending[start - 1]) || _pending[start - 1] == '.'))
        {
            start--;
        }

        var word = _pending.ToString(start, dot - start);
        if (word.Length == 0)
        {
            return false;
        }

        return word.Length == 1 && char.IsUpper(word[0]) && word[0] != 'I'
            || word.Contains('.')
            || Abbreviations.Contains(word);
    }

    private static string Normalize(string text)
    {
        var sb = new StringBuilder(text.Length);
        var space = false;
        foreach (var ch in text)
        {
            // A clause never starts with the end of the previous one (a quote or "!" that came a token late).
            if (sb.Length == 0 && (Closers.Contains(ch) || ch is '.' or '!' or '?' or '…' or ',' or ';' or ':'))
            {
                continue;
            }

            if (char.IsWhiteSpace(ch))
            {
                space = sb.Length > 0;
                continue;
            }

            if (space)
            {
                sb.Append(' ');
                space = false;
            }

            sb.Append(ch);
        }

        return sb.ToString();
    }
}
