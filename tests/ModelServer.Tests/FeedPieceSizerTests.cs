using CharRnn.ModelServer.DeviceLoop;

namespace CharRnn.ModelServer.Tests;

/// <summary>How many chars a long text's next piece feeds: 256 with no stream open, else what fits the budget.</summary>
public class FeedPieceSizerTests
{
    private static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(2);

    [Fact]
    public void With_no_stream_open_a_piece_is_256_chars_however_slow_the_model()
    {
        var sizer = new FeedPieceSizer();
        var model = new object();
        sizer.Fed(model, 10, TimeSpan.FromMilliseconds(50));
        Assert.Equal(256, sizer.PieceChars(model, streamBudget: null));
    }

    [Fact]
    public void While_streams_are_open_a_piece_is_what_the_model_feeds_in_the_budget_from_1_to_256_chars()
    {
        var sizer = new FeedPieceSizer();
        var (slow, fast, unmeasured) = (new object(), new object(), new object());
        sizer.Fed(slow, 100, TimeSpan.FromMilliseconds(10));    // 100 µs a char: 20 in 2 ms
        sizer.Fed(fast, 256, TimeSpan.FromMicroseconds(256));   // 1 µs a char: 2,000 fit, 256 at most
        Assert.Equal(20, sizer.PieceChars(slow, Slice));
        Assert.Equal(256, sizer.PieceChars(fast, Slice));
        Assert.Equal(FeedPieceSizer.FirstChars, sizer.PieceChars(unmeasured, Slice)); // each model measured on its own
        sizer.Fed(slow, 1, TimeSpan.FromSeconds(1));            // one very slow piece: a char a piece, not none
        Assert.Equal(1, sizer.PieceChars(slow, Slice));
    }
}
