namespace CharRnn.Tui.Client;

/// <summary>
/// How a model's score on a text reads, at the REPL's feed and in `charrnn eval`: the char-rnn measures of
/// one loss (nats/char, bits/char = nats / ln 2, perplexity = e^nats) and the top-1 accuracy.
/// </summary>
public static class PredictionScoreText
{
    public static string Describe(double nats, double accuracy) =>
        $"{nats:F2} nats/char ({nats / Math.Log(2):F2} bits/char, perplexity {Math.Exp(nats):F1}) · {accuracy * 100:F0}% top-1";
}
