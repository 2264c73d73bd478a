using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.Services;
using InteractResponse = CharRnn.Protos.V1.InteractResponse;

namespace CharRnn.ModelServer.Tests;

/// <summary>An Interact stream's typed-text scores not yet sent: what is kept, what is carried, and what bounds it.</summary>
public class PendingTypedScoresTests
{
    private static CharScore[] Scores(string text) => [.. text.Select((c, i) => new CharScore(i, c.ToString(), 0.5, false))];

    [Fact]
    public void Requests_that_fed_nothing_are_not_kept_so_a_client_sending_empty_texts_with_predict_chars_0_does_not_grow_the_servers_memory()
    {
        var pending = new PendingTypedScores();
        for (var i = 0; i < 100_000; i++) pending.Fed(i, reset: false, []); // an empty text, or one Skip dropped whole
        Assert.Equal(0, pending.RequestsKept);

        pending.Fed(100_000, reset: false, Scores("ab"));
        pending.Fed(100_001, reset: false, []);
        Assert.Equal(1, pending.RequestsKept);
        var first = new InteractResponse { RequestIndex = 100_001 };
        pending.Carry(first);
        Assert.Equal(["a", "b"], first.TypedScores.Select(s => s.Character));
        Assert.Equal(100_000, first.TypedScoresFrom);
        Assert.Equal(0, pending.RequestsKept);
    }

    [Fact]
    public void Past_the_most_chars_kept_the_oldest_requests_go_whole_and_typed_scores_from_says_where_the_rest_start()
    {
        var pending = new PendingTypedScores();
        var piece = new string('x', PendingTypedScores.MaxChars / 4);
        for (var i = 0; i < 6; i++) pending.Fed(i, reset: false, Scores(piece));
        var first = new InteractResponse { RequestIndex = 5 };
        pending.Carry(first);
        Assert.Equal(2, first.TypedScoresFrom);
        Assert.Equal(PendingTypedScores.MaxChars, first.TypedScores.Count);
    }
}
