namespace CharRnn.ModelServer.Services;

/// <summary>Fixed limits of the gRPC contract (the proto states each); the operator's limits are ServerLimits.</summary>
internal static class ProtocolLimits
{
    /// <summary>top_alternatives at most: each is a sort over the vocabulary for every char, and a message field.</summary>
    public const int MaxAlternatives = 10;

    /// <summary>An Interact's predict_chars at most: a preview of what may follow, not a Generate; its outgoing queue is sized from it.</summary>
    public const int MaxPredictChars = 200;

    /// <summary>
    /// Characters fed per device command. A long text goes in pieces, so that other sessions'
    /// streams and the training job run between them: fed at once, a 20,000-char prime held an
    /// LSTM server's device for seconds.
    /// </summary>
    public const int FeedPiece = 256;
}
