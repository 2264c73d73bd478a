using CharRnn.Engine.Sampling;
using CharRnn.Engine.Text;

namespace CharRnn.Engine.Tests;

/// <summary>The stop string the server's Generate and charrnn generate --stop share.</summary>
public class StopStringTests
{
    [Fact]
    public void It_is_reached_by_the_char_that_completes_the_first_match_however_the_text_came_in_pieces()
    {
        var stop = new StopString("sat");
        var reached = "the cat sa".Select(c => stop.Reached(c.ToString())).ToList();
        Assert.DoesNotContain(true, reached);
        Assert.True(stop.Reached("t"));
        var pieces = new StopString("\U0001F600a"); // a symbol's text may be two UTF-16 units
        Assert.False(pieces.Reached("\U0001F600"));
        Assert.True(pieces.Reached("a"));
        var late = new StopString("ab"); // long after the tail was cut
        Assert.DoesNotContain(true, Enumerable.Repeat("x", 50).Select(late.Reached).ToList());
        Assert.False(late.Reached("a"));
        Assert.True(late.Reached("b"));
        Assert.DoesNotContain(true, "anything".Select(c => new StopString("").Reached(c.ToString())));
    }

    [Fact]
    public void One_with_chars_the_model_never_generates_or_too_long_is_described_for_the_caller_to_name()
    {
        var vocabulary = Vocabulary.Build("the cat sat on the mat.", lowercase: true);
        Assert.Null(StopString.NeverGenerated("mat.", vocabulary));
        Assert.Equal("has 2 character(s) this model never generates (it was trained on lowercased text): 'Z' (U+005A), control character (U+0000); it could never match.",
            StopString.NeverGenerated("Zat\0Z", vocabulary));
        var rare = Vocabulary.Build("the cat sat on the mat.\u2603", minFrequency: 2); // the snowman maps to the unknown symbol, which is never generated
        Assert.True(rare.HasUnknown);
        Assert.Equal("has 1 character(s) this model never generates: '\uFFFD' (U+FFFD); it could never match.", StopString.NeverGenerated("at\uFFFD", rare));
        Assert.Null(StopString.NeverGenerated("\uFFFD", Vocabulary.Build("a\uFFFDb"))); // a corpus's own U+FFFD, kept as a char, is generated
        Assert.Null(StopString.TooLong(new string('a', StopString.MaxLength)));
        Assert.Equal("has 1001 UTF-16 code units; use at most 1000.", StopString.TooLong(new string('a', 1001)));
    }
}
