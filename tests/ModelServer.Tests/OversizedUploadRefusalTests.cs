using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Services;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Tests;

public class OversizedUploadRefusalTests
{
    /// <summary>A training call's request with a gRPC frame header declaring <paramref name="declared"/> bytes, and that many bytes after it.</summary>
    private static async Task<(HttpContext Context, bool Passed)> Send(int declared, int maximum, string path = "/charrnn.v1.Training/StartJob")
    {
        var body = new byte[5 + declared];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(body.AsSpan(1), (uint)declared);
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = path;
        context.Request.ContentType = "application/grpc";
        context.Request.Body = new MemoryStream(body);
        var passed = false;
        var refusal = new OversizedUploadRefusal(async c =>
            {
                passed = true;
                var read = new MemoryStream();
                await c.Request.BodyReader.CopyToAsync(read); // as the gRPC handler reads it
                Assert.Equal(body, read.ToArray()); // the handler still reads the whole body, header included
            },
            Options.Create(new GrpcServiceOptions<TrainingService> { MaxReceiveMessageSize = maximum }),
            Options.Create(new ServerOptions { Limits = { MaxUploadBytes = maximum - 100 } }));
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
                     "limit max_upload_bytes, and 1 MiB for the rest). Upload a shorter text.", Uri.UnescapeDataString(context.Response.Headers["grpc-message"]!));
    }

    [Fact]
    public async Task A_message_within_the_limit_and_other_services_messages_go_to_the_handler_whole()
    {
        Assert.True((await Send(declared: 2_000, maximum: 2_000)).Passed);
        Assert.True((await Send(declared: 3_000, maximum: 2_000, path: "/charrnn.v1.Catalog/ListModels")).Passed);
    }
}
