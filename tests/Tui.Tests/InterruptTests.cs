using System.Net;
using System.Net.Sockets;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A server that takes calls and never answers: Esc in the REPL ends any command waiting on it,
/// not only a generation, and without Esc a unary call ends at the client's call timeout.
/// </summary>
public sealed class InterruptTests
{
    [Fact]
    public async Task Esc_ends_a_command_waiting_on_a_server_that_does_not_answer_and_the_rest_of_its_line()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0); // accepts, never answers: a server wedged or a link gone quiet
        silent.Start();
        var accepted = silent.AcceptSocketAsync();
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"));
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(client, output, interactive: true);

        var line = runner.SubmitAsync("models; archs");
        var queued = runner.SubmitAsync("corpora"); // typed after: it waits behind the first
        using (var socket = await accepted.WaitAsync(TimeSpan.FromSeconds(10)))
        {
            await socket.ReceiveAsync(new byte[64], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(10)); // `models` has asked
            Assert.False(line.IsCompleted);
            runner.Interrupt();
            await line.WaitAsync(TimeSpan.FromSeconds(10));
            await queued.WaitAsync(TimeSpan.FromSeconds(10));
        }
        Assert.Contains("stopped", output.Lines);
        Assert.Contains("stopped before it began: corpora", output.Lines);
        Assert.Empty(output.Errors); // stopping is not an error, and `archs` never ran
    }

    [Fact]
    public async Task A_command_waiting_on_a_server_that_does_not_answer_ends_at_the_call_timeout_with_an_error_that_says_so()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = silent.AcceptSocketAsync();
        using var client = new CharRnnClient(new Uri($"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}"), callTimeout: TimeSpan.FromSeconds(1));
        var output = new RecordingReplOutput();
        await using var runner = new CommandRunner(client, output, interactive: false);

        var line = runner.SubmitAsync("models");
        using var socket = await accepted.WaitAsync(TimeSpan.FromSeconds(10));
        await line.WaitAsync(TimeSpan.FromSeconds(20)); // without a deadline it would wait for good
        Assert.Contains(output.Errors, e => e.Contains("did not answer in time", StringComparison.Ordinal));
    }
}
