namespace CharRnn.ModelServer.Services;

/// <summary>Fixed limits of the gRPC contract (the proto states each); the operator's limits are ServerLimits.</summary>
internal static class ProtocolLimits
{
    /// <summary>top_alternatives at most: each is a sort over the vocabulary for every char, and a message field.</summary>
    public const int MaxAlternatives = 10;

    /// <summary>An Interact's predict_chars at most: a preview of what may follow, not a Generate; its outgoing queue is sized from it.</summary>
    public const int MaxPredictChars = 200;
}
