using System.IO.Compression;
using Grpc.Core;
using Grpc.Net.Compression;

namespace CharRnn.ModelServer.MessageLimits;

/// <summary>
/// gzip, as grpc-dotnet's own provider, but a request's message may not decompress past the service's message limit.
/// The limits (and OversizedMessageRefusal) compare a frame's length on the wire, which for a compressed message is its
/// compressed size, and grpc-dotnet decompresses into an unbounded buffer: a 1 MiB gzip bomb would become about 1 GB.
/// </summary>
public sealed class BoundedGzipDecompression(int maximum, string limitName) : ICompressionProvider
{
    public string EncodingName => "gzip";

    public Stream CreateCompressionStream(Stream stream, CompressionLevel? compressionLevel) =>
        new GZipStream(stream, compressionLevel ?? CompressionLevel.Fastest, leaveOpen: true);

    public Stream CreateDecompressionStream(Stream stream) =>
        new Bounded(new GZipStream(stream, CompressionMode.Decompress), maximum, limitName);

    /// <summary>The refusal's cause (its Status.DebugException), by which it is told from others after the call.</summary>
    public sealed class PastLimit(string limitName, int maximum) : Exception($"a gzip message over {limitName} ({maximum:N0} bytes) once decompressed (RESOURCE_EXHAUSTED)")
    {
        /// <summary>
        /// The refusal's words for <paramref name="method"/>'s call. The stream below knows no method: an upload's (read in its
        /// handler) is worded again there (ErrorMappingInterceptor), for it is smaller only in more pieces.
        /// </summary>
        public string Detail(string? method) =>
            $"The request's message decompresses to more than {maximum:N0} bytes; this server takes messages up to {maximum:N0} bytes " +
            $"(limit {limitName}), compressed or not. " +
            (OversizedMessageRefusal.SplitAdvice(method) is { } split ? $"Retrying it cannot succeed: {split}" : "Retrying it cannot succeed; send a smaller message.");
    }

    /// <summary>Reads through, refusing with RESOURCE_EXHAUSTED once more than <paramref name="maximum"/> bytes came out.</summary>
    private sealed class Bounded(Stream inner, int maximum, string limitName) : Stream
    {
        private long _read;

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override int Read(Span<byte> buffer) => Count(inner.Read(buffer));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            // With its details already: a unary call's message is read before any interceptor runs, so the
            // ErrorMappingInterceptor would never add them, and grpc-dotnet sends the exception's trailers as they are.
            // PastLimit marks it for DecompressedMessageRefusal, which gives that call its request id.
            if (_read <= maximum) return read;
            var past = new PastLimit(limitName, maximum);
            var refusal = Errors.ErrorDetails.Refusal(StatusCode.ResourceExhausted, past.Detail(method: null), Errors.ErrorReasons.MessageTooLarge);
            throw new RpcException(new Status(refusal.StatusCode, refusal.Status.Detail, past), refusal.Trailers);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
