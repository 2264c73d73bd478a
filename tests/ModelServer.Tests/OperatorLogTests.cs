using CharRnn.ModelServer.Metrics;
using CharRnn.Protos.V1;
using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// What an operator of a team server reads in its log: which key hit which quota (once a minute per key
/// and quota, counted in charrnn_grpc_errors_total with the quota as reason).
/// </summary>
public class OperatorLogTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    private CapturedLog Log => keyed.Server.Log;

    [Fact]
    public async Task A_quota_refusal_is_counted_with_its_quota_and_logged_once_a_minute_per_key_and_quota()
    {
        var counted = ServerMetrics.Errors.WithLabels(StatusCode.ResourceExhausted.ToString(), "max_sessions_per_key");
        var before = counted.Value;
        var open = new List<Session>();
        for (var i = 0; i < keyed.Server.Options.Limits.MaxSessionsPerKey; i++) open.Add(await keyed.AsDave.Generation.Open("gru"));
        for (var i = 0; i < 2; i++)
            Assert.Equal(StatusCode.ResourceExhausted, (await Calls.Fails(() => keyed.AsDave.Generation.Open("gru"))).StatusCode);

        Assert.True(counted.Value >= before + 2, $"{counted.Value - before} refusals counted with reason max_sessions_per_key"); // other servers in this process count too
        var logged = Assert.Single(Log.With("for key dave: quota max_sessions_per_key"));
        Assert.StartsWith("Warning: Refused /charrnn.v1.Generation/OpenSession for key dave: quota max_sessions_per_key reached: Key 'dave' holds 4 open sessions", logged);
        foreach (var s in open) await keyed.AsDave.Generation.CloseSessionAsync(new CloseSessionRequest { SessionId = s.Id });
    }
}
