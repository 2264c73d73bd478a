using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>Small helpers over the generated clients.</summary>
internal static class Calls
{
    public static async Task<string> Generate(this Generation.GenerationClient client, string sessionId, int chars, string stop = "",
        CancellationToken cancellation = default)
    {
        using var call = client.Generate(new GenerateRequest { SessionId = sessionId, MaxChars = chars, Stop = stop }, cancellationToken: cancellation);
        var text = new System.Text.StringBuilder();
        await foreach (var piece in call.ResponseStream.ReadAllAsync(cancellation)) text.Append(piece.Text);
        return text.ToString();
    }

    public static async Task<Session> Open(this Generation.GenerationClient client, string model, ulong seed = 1, double temperature = 1.0, string prime = "") =>
        await client.OpenSessionAsync(new OpenSessionRequest
        {
            ModelName = model,
            Prime = prime,
            Sampling = new SamplingSettings { Seed = seed, Temperature = temperature },
        });

    /// <summary>The request field an INVALID_ARGUMENT names in its BadRequest (docs/errors.md), or null without one.</summary>
    public static string? FieldAtFault(RpcException e) => e.GetRpcStatus()?.GetDetail<Google.Rpc.BadRequest>()?.FieldViolations.Single().Field;

    public static async Task<RpcException> Fails(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (RpcException e)
        {
            return e;
        }
        throw new Xunit.Sdk.XunitException("The call was expected to fail with an RpcException, but it succeeded.");
    }

    public static async Task<List<JobEvent>> Events(this AsyncServerStreamingCall<JobEvent> call, CancellationToken cancellation = default)
    {
        var events = new List<JobEvent>();
        await foreach (var e in call.ResponseStream.ReadAllAsync(cancellation)) events.Add(e);
        return events;
    }
}
