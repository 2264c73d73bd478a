using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Security;
using CharRnn.Protos.V1;
using Grpc.Core;
using Microsoft.Extensions.Logging.Abstractions;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A call refused before any service runs (for its API key, a keys file that holds none or cannot be read, a message
/// too large or that does not parse) carries a request id in the trailer charrnn-request-id, as the services' errors do,
/// and the server's warning for it names that id. The warning stays once a minute per address and reason, so that a
/// client looping with a bad key cannot flood the log: the refusals it covers carry its id.
/// </summary>
public class RefusalRequestIdTests(KeyedServer keyed) : IClassFixture<KeyedServer>
{
    [Fact]
    public async Task Each_refusal_before_a_service_runs_carries_the_request_id_its_log_line_names()
    {
        using var wrong = keyed.Server.ChannelFor("crn_not-a-key");
        var raw = new Method<byte[], byte[]>(MethodType.Unary, "charrnn.v1.Generation", "OpenSession", Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));
        var tooLong = new string('a', keyed.Server.Options.Limits.MaxMessageBytes);
        var kinds = new (string Reason, Func<Task> Call)[]
        {
            ("no API key sent", () => keyed.Anonymous.Catalog.ListModelsAsync(new ListModelsRequest()).ResponseAsync),
            ("unknown or removed API key", () => new Catalog.CatalogClient(wrong).ListModelsAsync(new ListModelsRequest()).ResponseAsync),
            ("a message over max_message_bytes", () => keyed.AsAlice.Generation.OpenSessionAsync(new OpenSessionRequest { ModelName = "gru", Prime = tooLong }).ResponseAsync),
            (MessageLimits.MalformedMessageRefusal.NotParsedReason, () => keyed.AsAlice.Channel.CreateCallInvoker().AsyncUnaryCall(raw, null, new CallOptions(), [0xff, 0xff, 0xff, 0xff, 0x0f]).ResponseAsync),
        };
        foreach (var (reason, call) in kinds)
        {
            var first = await Calls.Fails(call);
            var again = await Calls.Fails(call);
            var id = first.Trailers.GetValue(ErrorMappingInterceptor.RequestIdTrailer);
            Assert.Matches("^[0-9a-f]{8}$", id ?? $"none ({reason})");
            Assert.Equal(id, again.Trailers.GetValue(ErrorMappingInterceptor.RequestIdTrailer)); // within the minute: the one line covers both
            var line = Assert.Single(keyed.Server.Log.With(reason));
            Assert.EndsWith($" (request {id}; the refusals of this address for this reason within a minute carry this id, and are not logged)", line);
        }
    }

    [Theory]
    [InlineData("[{\"name\": ", StatusCode.Unavailable, "the keys file is not valid or cannot be read")]
    [InlineData("[]", StatusCode.Unauthenticated, "the keys file holds no API keys")]
    public async Task A_keys_file_that_cannot_be_read_or_holds_no_key_refuses_with_a_request_id_its_log_line_names(string keys, StatusCode code, string reason)
    {
        var path = Path.Combine(Path.GetTempPath(), "charrnn-keys-" + Guid.NewGuid().ToString("N")[..8] + ".json");
        try
        {
            File.WriteAllText(path, keys);
            var log = new ListLogger<RefusalLog>();
            var auth = new AuthInterceptor(Microsoft.Extensions.Options.Options.Create(new ServerOptions { KeysFile = path }),
                new RefusalLog(TimeProvider.System, log), NullLogger<AuthInterceptor>.Instance);
            var e = await Assert.ThrowsAsync<RpcException>(() => auth.UnaryServerHandler("", new BareCallContext("/charrnn.v1.Catalog/ListModels"),
                (string _, ServerCallContext _) => Task.FromResult("served")));
            Assert.Equal(code, e.StatusCode);
            var id = e.Trailers.GetValue(ErrorMappingInterceptor.RequestIdTrailer);
            Assert.Matches("^[0-9a-f]{8}$", id ?? "none");
            Assert.Equal($"Warning: Refused /charrnn.v1.Catalog/ListModels from ipv4:127.0.0.1:1: {reason} (request {id}; the refusals of this address " +
                         "for this reason within a minute carry this id, and are not logged)", Assert.Single(log.Lines));
        }
        finally { File.Delete(path); }
    }
}
