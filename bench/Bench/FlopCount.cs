namespace CharRnn.Bench;

/// <summary>Floating-point operations per character, from the model's matrix products.</summary>
public static class FlopCount
{
    /// <summary>Forward multiply-adds ×2 per char: the recurrent layers (gates × (input + hidden) × hidden) and the output layer.</summary>
    public static double ForwardPerChar(string arch, int vocab)
    {
        var (gates, hidden, layers) = arch switch { "lstm" => (4, 512, 2), "gru" => (3, 256, 1), _ => (1, 256, 1) };
        double flops = 0;
        for (int layer = 0; layer < layers; layer++)
        {
            var input = layer == 0 ? 42 : hidden;
            flops += 2.0 * gates * hidden * (input + hidden);
        }
        return flops + 2.0 * hidden * vocab;
    }

    /// <summary>Training costs about three forward passes (forward, and backward for inputs and weights).</summary>
    public static double TrainingPerChar(string arch, int vocab) => 3 * ForwardPerChar(arch, vocab);
}
