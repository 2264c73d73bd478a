using CharRnn.Protos.V1;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A stream the client opens before it has anything to send (Interact, before the user types) on a real Kestrel
/// listener: Kestrel's minimum request-body data rate (after a 5 s grace) must not apply while the server waits for
/// its first message, or Kestrel resets the whole HTTP/2 connection, every other call on it included.
/// </summary>
public class SlowFirstMessageTests
{
    [Fact]
    public async Task An_interact_whose_first_message_comes_after_kestrels_grace_keeps_its_connection_and_the_calls_beside_it()
    {
        var models = Path.Combine(Path.GetTempPath(), "charrnn-slow-first-" + Guid.NewGuid().ToString("N")[..8]);
        var app = Hosting.ServerHost.Build([], new Hosting.ServerOptions { Listen = "127.0.0.1:0", ModelsDirectory = models, Device = "cpu", Threads = 1 }, _ => { });
        try
        {
            using var channel = GrpcChannel.ForAddress(await Hosting.ServerHost.StartAsync(app));
            using var watch = new Health.HealthClient(channel).Watch(new HealthCheckRequest());
            Assert.True(await watch.ResponseStream.MoveNext()); // the stream beside it is open
            var watching = watch.ResponseStream.MoveNext(); // waits while the stream lives: health does not change here

            using var interact = new Generation.GenerationClient(channel).Interact();
            await Task.Delay(TimeSpan.FromSeconds(6.5)); // past Kestrel's 5 s grace, and its once-a-second check
            await interact.RequestStream.WriteAsync(new InteractRequest { SessionId = "no-such-session", Text = "a" });
            await interact.RequestStream.CompleteAsync();
            // The handler read the message and answered it (not UNAVAILABLE from a reset connection).
            var answer = await Assert.ThrowsAsync<RpcException>(() => interact.ResponseStream.MoveNext());
            Assert.Equal(StatusCode.NotFound, answer.Status.StatusCode);
            Assert.False(watching.IsFaulted, "the health Watch on the same connection died: " + watching.Exception?.InnerException?.Message);
            Assert.False(watching.IsCompleted);
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
            Directory.Delete(models, true);
        }
    }
}
