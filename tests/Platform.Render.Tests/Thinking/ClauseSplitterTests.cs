using Platform.Render.Thinking;
using Platform.Testing.OpenAi;

namespace Platform.Render.Tests.Thinking;

public sealed class ClauseSplitterTests
{
    private static List<string> Split(string text, IEnumerable<string>? tokens = null)
    {
        var splitter = new ClauseSplitter();
        var clauses = new List<string>();
        foreach (var token in tokens ?? ChatScript.Tokenize(text))
        {
            clauses.AddRange(splitter.Push(token));
        }

        if (splitter.Complete() is { } rest)
        {
            clauses.Add(rest);
        }

        return clauses;
    }

    [Fact]
    public void Splits_at_sentence_ends_in_order()
    {
        Assert.Equal(
            ["Hello there, how are you doing?", "I am fine, thanks for asking!", "Let me tell you a story."],
            Split("Hello there, how are you doing? I am fine, thanks for asking! Let me tell you a story."));
    }

    [Theory]
    [InlineData("The temperature is 3.5 degrees today. That is cold.", "The temperature is 3.5 degrees today.")]
    [InlineData("It costs 1,000 dollars in total. That is a lot.", "It costs 1,000 dollars in total.")]
    [InlineData("We meet at 10:30 in the lobby. See you there.", "We meet at 10:30 in the lobby.")]
    [InlineData("Mr. Smith and Dr. Jones arrived early. They were happy.", "Mr. Smith and Dr. Jones arrived early.")]
    [InlineData("Bring fruit, e.g. apples or pears. Thanks a lot.", "Bring fruit, e.g. apples or pears.")]
    [InlineData("She moved to the U.S. last year for work. It went well.", "She moved to the U.S. last year for work.")]
    [InlineData("The book by J. R. R. Tolkien is long. I loved it.", "The book by J. R. R. Tolkien is long.")]
    [InlineData("It weighs approx. five kilograms in total. Quite heavy.", "It weighs approx. five kilograms in total.")]
    [InlineData("Version 2.0.1 shipped yesterday afternoon. Try it.", "Version 2.0.1 shipped yesterday afternoon.")]
    [InlineData("He said \"stop right there.\" Then he left.", "He said \"stop right there.\"")]
    [InlineData("Really?! That is surprising news indeed.", "Really?!")]
    public void Does_not_split_decimals_numbers_or_abbreviations(string text, string first)
    {
        Assert.Equal(first, Split(text)[0]);
    }

    [Theory]
    [InlineData("Yes. I can help you with that.", "Yes. I can help you with that.")]
    [InlineData("I see. That makes sense to me.", "I see. That makes sense to me.")]
    [InlineData("Well... maybe later today then.", "Well... maybe later today then.")]
    public void Joins_very_short_fragments_to_what_follows(string text, string only)
    {
        Assert.Equal([only], Split(text));
    }

    [Fact]
    public void Cuts_at_a_comma_only_once_the_clause_is_long_enough()
    {
        Assert.Equal(
            ["When you arrive at the station tomorrow,", "take the second exit, then turn left."],
            Split("When you arrive at the station tomorrow, take the second exit, then turn left."));
    }

    [Fact]
    public void Cuts_at_once_after_a_word_but_waits_to_see_what_follows_a_number()
    {
        var splitter = new ClauseSplitter();
        Assert.Empty(splitter.Push("The price is 3."));
        Assert.Equal(["The price is 3.5 euros."], splitter.Push("5 euros."));
        Assert.Empty(splitter.Push(" And"));
        Assert.Empty(splitter.Push(" so"));
        Assert.Equal("And so", splitter.Complete());
        Assert.Null(splitter.Complete());
    }

    [Fact]
    public void A_closing_quote_that_comes_a_token_late_does_not_start_the_next_clause()
    {
        var splitter = new ClauseSplitter();
        Assert.Equal(["He said \"stop right there."], splitter.Push("He said \"stop right there."));
        Assert.Empty(splitter.Push("\" Then"));
        Assert.Equal("Then he left.", splitter.Push(" he left.").Single());
    }

    [Fact]
    public void Streaming_character_by_character_gives_the_same_clauses_as_whole_words()
    {
        const string text = "First, we check the forecast for Lisbon. It shows 21.5 degrees, sunny skies, and a light breeze!\nNext: pack sunscreen. Mr. Silva will meet you at 9 a.m. sharp.";
        var byWord = Split(text);
        var byChar = Split(text, text.Select(c => c.ToString()));
        Assert.Equal(byWord, byChar);
        Assert.True(byWord.Count >= 4, string.Join(" | ", byWord));
        Assert.Equal(text.Replace("\n", " "), string.Join(" ", byWord));
    }

    [Fact]
    public void Cuts_text_without_punctuation_at_a_space_when_it_runs_long()
    {
        var text = string.Join(" ", Enumerable.Repeat("word", 100));
        var clauses = Split(text);
        Assert.True(clauses.Count > 1);
        Assert.All(clauses, c => Assert.True(c.Length <= new ClauseSplitterOptions().MaxClauseChars, c));
        Assert.Equal(text, string.Join(" ", clauses));
    }

    [Fact]
    public void Splits_at_line_breaks()
    {
        Assert.Equal(
            ["Here are your options today:", "First class with lounge access", "Economy with extra legroom"],
            Split("Here are your options today:\nFirst class with lounge access\nEconomy with extra legroom"));
    }
}
