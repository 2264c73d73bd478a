using TorchSharp;
using CharRnn.Engine.Runtime;
using static TorchSharp.torch;

namespace CharRnn.Engine.Models;

/// <summary>
/// The number format of a model's large generation products (<see cref="CharModel.PrepareForGeneration"/>):
/// float32, exact as trained; or bfloat16, the weights and each step's rows rounded to bfloat16 and
/// summed in float32: on this project's AMD EPYC with AVX512_BF16 the lesson LSTM's steps ran 1.44–1.74×
/// faster at 1, 64 and 256 sessions (0.94× at 8) with the same held-out nats/char to 5 decimals
/// (bench/results.md, 2026-12-07 11:54). Only the stateful LSTM has a bf16 path.
/// </summary>
public enum GenerationPrecision
{
    Float32,
    BFloat16,
}

/// <summary>The names the command line and the server's options give precisions, and where bf16 is offered.</summary>
public static class GenerationPrecisions
{
    /// <summary>The architectures with a bf16 path (Bf16GenerationTests checks every architecture against it); the others generate in float32.</summary>
    public static readonly IReadOnlyList<string> Bf16Architectures = ["stateful-lstm"];

    /// <summary>Why a model of <paramref name="architecture"/> does not generate in bf16, naming those that do.</summary>
    public static string NoBf16Path(string architecture) => $"a {architecture} model has no bf16 path ({string.Join(", ", Bf16Architectures)} models have)";

    public static readonly string Allowed = $"float32 (the default: exact) or bf16 (bfloat16 products: faster on a CPU with AVX512_BF16, slightly less accurate; {string.Join(", ", Bf16Architectures)} models only)";

    public static string Name(GenerationPrecision precision) => precision == GenerationPrecision.BFloat16 ? "bf16" : "float32";

    /// <summary>The precision named <paramref name="text"/>; else an error naming <paramref name="flag"/> and what is allowed.</summary>
    public static GenerationPrecision Parse(string text, string flag) => text switch
    {
        "float32" => GenerationPrecision.Float32,
        "bf16" => GenerationPrecision.BFloat16,
        _ => throw new ArgumentException($"{flag} '{text}' is not a precision; use {Allowed}."),
    };

    /// <summary>Why <paramref name="precision"/> cannot be used on <paramref name="device"/>, or null where it can (a GPU's bf16 is torch's, untested here).</summary>
    public static string? WhyUnavailable(GenerationPrecision precision, DeviceType device) =>
        precision == GenerationPrecision.BFloat16 && device == DeviceType.CPU ? MklBf16Weight.WhyUnavailable : null;
}
