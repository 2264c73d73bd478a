using System.Buffers;
using System.Buffers.Binary;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Services;
using Grpc.AspNetCore.Server;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core.Features;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.MessageLimits;

/// <summary>
/// A gRPC call whose (first) message is larger than the server takes is refused with RESOURCE_EXHAUSTED from its
/// frame's declared length, before its body is read. The transport's own refusal says only "Received message exceeds
/// the maximum configured message size": not the size sent, nor the limit, nor that a retry cannot help. Training
/// calls take max_upload_bytes and 1 MiB for the rest (Limits.max_training_message_bytes); every other call
/// Limits.max_message_bytes. For training it also lets the body be as large as that message, past Kestrel's own cap
/// on a request's body. A client stream's later messages (Interact's) are refused in the same words as the handler
/// reads them (<see cref="LaterMessageLimitReader"/>).
/// A client or duplex stream's first message may come much later than its headers (Interact opens before the user
/// types): for those the wait is not held to Kestrel's minimum body data rate, as grpc-dotnet's handler does not hold them.
/// </summary>
public sealed class OversizedMessageRefusal(RequestDelegate next, IOptions<GrpcServiceOptions> all, IOptions<GrpcServiceOptions<TrainingService>> training,
    IOptions<ServerOptions> server, Security.RefusalLog refusals)
{
    private const string TrainingPath = "/charrnn.v1.Training";
    private const int FrameHeaderBytes = 5; // a compressed flag, then the message's length as a big-endian uint32

    public async Task InvokeAsync(HttpContext context)
    {
        if (!HttpMethods.IsPost(context.Request.Method) || context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) != true)
        {
            await next(context);
            return;
        }
        var isTraining = context.Request.Path.StartsWithSegments(TrainingPath);
        var maximum = isTraining ? training.Value.MaxReceiveMessageSize : all.Value.MaxReceiveMessageSize;
        if (maximum == null)
        {
            await next(context);
            return;
        }
        // Kestrel caps a request's body at 30,000,000 bytes, and grpc-dotnet lifts that only for client-streaming
        // methods: a larger upload the server's own limit allows failed as UNKNOWN. One message and its frame header.
        // A client or duplex stream's body is as long as its messages go on: grpc-dotnet lifts the cap for these in its
        // handler, too late once this has read the first frame, so a corpus upload over 30 MB failed as INTERNAL. Each
        // message is still held to the limit below, and UploadCorpus holds its whole text to max_corpus_bytes.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            if (IsRequestStreaming(context)) bodyLimit.MaxRequestBodySize = null;
            else if (isTraining) bodyLimit.MaxRequestBodySize = maximum.Value + (long)FrameHeaderBytes;
        }
        // Kestrel's minimum body data rate (240 B/s after a 5 s grace) would otherwise apply while this waits for the
        // first message, and its breach resets the whole HTTP/2 connection, every other call on it included.
        // grpc-dotnet lifts it for these methods, but only in its handler, which runs after this.
        if (IsRequestStreaming(context) && context.Features.Get<IHttpMinRequestBodyDataRateFeature>() is { } dataRate)
            dataRate.MinDataRate = null;
        var length = await DeclaredLength(context.Request.BodyReader, context.RequestAborted);
        if (length is { } sent && sent > maximum)
        {
            // No handler ran: counted and logged (one line per address a minute) here. The size is left out of the
            // reason, which keys the log: each new size would be a new line.
            var limit = isTraining ? "max_training_message_bytes" : "max_message_bytes";
            Metrics.ServerMetrics.CountError(Grpc.Core.StatusCode.ResourceExhausted, limit, keyName: null); // before the key check: no key accepted yet
            var requestId = refusals.Refused(Peer(context), context.Request.Path, $"a message over {limit} ({maximum.Value:N0} bytes; RESOURCE_EXHAUSTED)");
            TrailersOnlyRefusal.Write(context.Response, Grpc.Core.StatusCode.ResourceExhausted, Refusal(sent, maximum.Value, isTraining, context.Request.Path),
                Errors.ErrorReasons.MessageTooLarge, requestId);
            return;
        }
        // The later messages of a stream come after the handler starts: checked as it reads them, in the same words.
        if (IsRequestStreaming(context))
        {
            var path = context.Request.Path;
            var body = new LaterMessageLimitReader(context.Request.BodyReader, maximum.Value, later => Refusal(later, maximum.Value, isTraining, path));
            context.Features.Set<IRequestBodyPipeFeature>(new RequestBodyPipe(body));
        }
        await next(context);
    }

    /// <summary>The streamed uploads, whose data the client may cut anywhere: what each one's data is.</summary>
    private static readonly Dictionary<string, string> UploadedBytes = new(StringComparer.Ordinal)
    {
        ["/charrnn.v1.Catalog/UploadCorpus"] = "text",
        ["/charrnn.v1.Catalog/ImportModel"] = "file",
    };

    /// <summary>How an upload's message too large is sent instead ("UploadCorpus takes its text in pieces; …"), or null for other methods.</summary>
    internal static string? SplitAdvice(string? method) =>
        method != null && UploadedBytes.TryGetValue(method, out var what)
            ? $"{method[(method.LastIndexOf('/') + 1)..]} takes its {what} in pieces; split the {what} into more data messages, each at most 1 MiB."
            : null;

    private string Refusal(long sent, long maximum, bool isTraining, PathString path)
    {
        var limits = server.Value.Limits;
        // "Send a smaller message" fits a Feed's text; an upload's is smaller only in more pieces (any 1 MiB piece fits
        // max_message_bytes, which is 1 MiB and room for max_prime_chars).
        if (SplitAdvice(path.Value) is { } split)
            return $"The request's message is {sent:N0} bytes; this server takes messages up to {maximum:N0} bytes (limit max_message_bytes). Retrying it " +
                   $"cannot succeed: {split}";
        return isTraining
            ? $"The request's message is {sent:N0} bytes; this server takes training messages up to {maximum:N0} bytes (corpus_text up to " +
              $"{limits.MaxUploadBytes:N0} bytes, limit max_upload_bytes, and 1 MiB for the rest). Upload a shorter text."
            : $"The request's message is {sent:N0} bytes; this server takes messages up to {maximum:N0} bytes (limit max_message_bytes: " +
              $"texts of max_prime_chars = {limits.MaxPrimeChars:N0} characters, and 1 MiB for the rest). Retrying it cannot succeed; send a smaller message.";
    }

    /// <summary>The client's address as gRPC writes a call's peer ("ipv4:10.0.0.7:53122"), which no call context holds yet.</summary>
    private static string Peer(HttpContext context) => context.Connection.RemoteIpAddress switch
    {
        null => "unknown",
        { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } v6 => $"ipv6:[{v6}]:{context.Connection.RemotePort}",
        var v4 => $"ipv4:{v4}:{context.Connection.RemotePort}",
    };

    private sealed class RequestBodyPipe(System.IO.Pipelines.PipeReader reader) : IRequestBodyPipeFeature
    {
        public System.IO.Pipelines.PipeReader Reader => reader;
    }

    /// <summary>Whether the call's method takes a stream of requests, from the gRPC endpoint routing chose for it.</summary>
    private static bool IsRequestStreaming(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.Method.Type is MethodType.ClientStreaming or MethodType.DuplexStreaming;

    /// <summary>The first message's length from its frame header, leaving the body unread for the gRPC handler; null if the body ends first.</summary>
    private static async Task<long?> DeclaredLength(System.IO.Pipelines.PipeReader reader, CancellationToken cancellation)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellation);
            var buffer = result.Buffer;
            if (buffer.Length >= FrameHeaderBytes)
            {
                var header = buffer.Slice(0, FrameHeaderBytes).ToArray();
                // Nothing consumed, and only the header examined: the handler's first read gets the rest at once.
                reader.AdvanceTo(buffer.Start, buffer.GetPosition(FrameHeaderBytes));
                return BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
            }
            reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted || result.IsCanceled) return null;
        }
    }
}
