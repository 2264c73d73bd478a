using System.Net;
using System.Net.Sockets;
using CharRnn.Tui.Client;
using CharRnn.Tui.Repl;

namespace CharRnn.Tui.Tests;

/// <summary>Esc in the REPL: any command waiting on the server ends, not only a generation.</summary>
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
}
