using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.MessageLimits;
using CharRnn.ModelServer.Services;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Tests;

public class OversizedMessageRefusalTests
{
    /// <summary>A training call's request with a gRPC frame header declaring <paramref name="declared"/> bytes, and that many bytes after it.</summary>
    private static async Task<(HttpContext Context, bool Passed)> Send(int declared, int maximum, string path = "/charrnn.v1.Training/StartJob",
        IHttpMaxRequestBodySizeFeature? bodyLimit = null, int otherMaximum = 1_000_000)
    {
        var body = new byte[5 + declared];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), (uint)declared);
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = path;
        context.Request.ContentType = "application/grpc";
        context.Request.Body = new MemoryStream(body);
        if (bodyLimit != null) context.Features.Set(bodyLimit);
        var passed = false;
        var refusal = new OversizedMessageRefusal(async c =>
            {
                passed = true;
                var read = new MemoryStream();
                await c.Request.BodyReader.CopyToAsync(read); // as the gRPC handler reads it
                Assert.Equal(body, read.ToArray()); // the handler still reads the whole body, header included
            },
            Options.Create(new GrpcServiceOptions { MaxReceiveMessageSize = otherMaximum }),
            Options.Create(new GrpcServiceOptions<TrainingService> { MaxReceiveMessageSize = maximum }),
            Options.Create(new ServerOptions { Limits = { MaxUploadBytes = maximum - 100, MaxPrimeChars = 1_234 } }),
            new Security.RefusalLog(TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Security.RefusalLog>.Instance));
        await refusal.InvokeAsync(context);
        return (context, passed);
    }

    [Fact]
    public async Task A_training_message_over_the_limit_is_refused_saying_its_size_and_the_limit()
    {
        var (context, passed) = await Send(declared: 2_001, maximum: 2_000);
        Assert.False(passed);
        Assert.Equal("8", context.Response.Headers["grpc-status"]); // RESOURCE_EXHAUSTED
        Assert.Equal("The request's message is 2,001 bytes; this server takes training messages up to 2,000 bytes (corpus_text up to 1,900 bytes, " +
                     "limit max_upload_bytes, and 1 MiB for the rest). Upload a shorter text.", context.Response.Headers["grpc-message"]!);
        var details = Google.Rpc.Status.Parser.ParseFrom(Convert.FromBase64String(context.Response.Headers["grpc-status-details-bin"]!));
        Assert.Equal((8, "MESSAGE_TOO_LARGE"), (details.Code, details.GetDetail<Google.Rpc.ErrorInfo>()!.Reason)); // refused before any service: details all the same
    }

    private sealed class BodyLimit : IHttpMaxRequestBodySizeFeature
    {
        public bool IsReadOnly => false;
        public long? MaxRequestBodySize { get; set; } = 30_000_000; // Kestrel's default
    }

    [Fact]
    public async Task A_training_call_may_send_a_body_as_large_as_its_message_limit_past_kestrels_default_cap()
    {
        var limit = new BodyLimit();
        Assert.True((await Send(declared: 2_000, maximum: 40_000_000, bodyLimit: limit)).Passed);
        Assert.Equal(40_000_005, limit.MaxRequestBodySize); // the message and its 5-byte frame header
        var other = new BodyLimit();
        await Send(declared: 10, maximum: 40_000_000, path: "/charrnn.v1.Catalog/ListModels", bodyLimit: other);
        Assert.Equal(30_000_000, other.MaxRequestBodySize); // other services take no uploads
    }

    [Fact]
    public async Task A_message_within_its_services_limit_goes_to_the_handler_whole()
    {
        Assert.True((await Send(declared: 2_000, maximum: 2_000)).Passed);
        Assert.True((await Send(declared: 3_000, maximum: 2_000, path: "/charrnn.v1.Catalog/ListModels", otherMaximum: 3_000)).Passed);
    }

    [Theory]
    [InlineData("/charrnn.v1.Generation/Feed")]
    [InlineData("/charrnn.v1.Generation/Interact")]
    [InlineData("/charrnn.v1.Catalog/GetModel")]
    public async Task Any_other_calls_message_over_its_limit_is_refused_saying_its_size_the_limit_and_that_a_retry_cannot_help(string path)
    {
        var (context, passed) = await Send(declared: 3_001, maximum: 40_000_000, path: path, otherMaximum: 3_000);
        Assert.False(passed);
        Assert.Equal("8", context.Response.Headers["grpc-status"]); // RESOURCE_EXHAUSTED
        Assert.Equal("The request's message is 3,001 bytes; this server takes messages up to 3,000 bytes (limit max_message_bytes: texts of " +
                     "max_prime_chars = 1,234 characters, and 1 MiB for the rest). Retrying it cannot succeed; send a smaller message.",
                     context.Response.Headers["grpc-message"]!); // as sent: printable ASCII is not escaped (',' ';' ':' '=' and spaces)
    }

    [Theory]
    [InlineData("/charrnn.v1.Catalog/UploadCorpus", "UploadCorpus takes its text", "text")]
    [InlineData("/charrnn.v1.Catalog/ImportModel", "ImportModel takes its file", "file")]
    public async Task An_uploads_message_over_the_limit_is_refused_saying_to_send_its_bytes_in_more_data_messages(string path, string takes, string what)
    {
        // "a text of max_prime_chars" and "send a smaller message" fit a Feed; an upload's data is cut where the client likes.
        var (context, passed) = await Send(declared: 3_001, maximum: 40_000_000, path: path, otherMaximum: 3_000);
        Assert.False(passed);
        Assert.Equal("8", context.Response.Headers["grpc-status"]); // RESOURCE_EXHAUSTED
        Assert.Equal("The request's message is 3,001 bytes; this server takes messages up to 3,000 bytes (limit max_message_bytes). Retrying it " +
                     $"cannot succeed: {takes} in pieces; split the {what} into more data messages, each at most 1 MiB.",
                     context.Response.Headers["grpc-message"]!);
    }

    [Theory]
    [InlineData("3,001 bytes; limit: a/b (x = 1)", "3,001 bytes; limit: a/b (x = 1)")]
    [InlineData("100% of it", "100%25 of it")]
    [InlineData("café\n🙂", "caf%C3%A9%0A%F0%9F%99%82")]
    public void A_grpc_message_escapes_only_percent_and_what_is_not_printable_ascii_as_utf8(string message, string header)
    {
        Assert.Equal(header, GrpcMessageEncoding.Encode(message));
        Assert.Equal(message, Uri.UnescapeDataString(header)); // what a client decodes
    }
}
