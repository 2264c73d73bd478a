using System.Security.Cryptography;
using Google.Protobuf;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Services;

/// <summary>
/// The write-only stream the engine's synchronous safetensors writer writes an export into: it keeps at most one chunk
/// of the file (<paramref name="chunkBytes"/>) and sends it with <paramref name="send"/> as soon as the next byte comes,
/// hashing as it goes, so a server never holds the whole file. <see cref="Complete"/> sends the last piece with the
/// SHA-256. The first message sent is <paramref name="first"/> (its size and checkpoint), with the file's first bytes.
/// Blocks the writer's thread on each send (the client's pace); a failed or cancelled send stops the writer there.
/// </summary>
internal sealed class ChunkedExportStream(Func<Api.ExportModelChunk, Task> send, Api.ExportModelChunk first, int chunkBytes) : Stream
{
    private readonly byte[] _buffer = new byte[chunkBytes];
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private Api.ExportModelChunk? _first = first;
    private int _filled;

    /// <summary>The bytes written so far: sent, or waiting in the one chunk held.</summary>
    public long Written { get; private set; }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            // Sent only when more bytes follow, so the last piece (which carries the SHA-256) is never empty.
            if (_filled == _buffer.Length) Send(new Api.ExportModelChunk());
            var n = Math.Min(buffer.Length, _buffer.Length - _filled);
            buffer[..n].CopyTo(_buffer.AsSpan(_filled));
            _hash.AppendData(buffer[..n]);
            _filled += n;
            Written += n;
            buffer = buffer[n..];
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void WriteByte(byte value) => Write([value]);

    /// <summary>Sends what is held with the SHA-256 of every byte written: the last message of the stream. Returns the SHA-256.</summary>
    public string Complete()
    {
        var sha256 = Convert.ToHexStringLower(_hash.GetHashAndReset());
        Send(new Api.ExportModelChunk { Sha256 = sha256 });
        return sha256;
    }

    private void Send(Api.ExportModelChunk chunk)
    {
        if (_first != null)
        {
            (_first.Sha256, chunk) = (chunk.Sha256, _first);
            _first = null;
        }
        chunk.Data = ByteString.CopyFrom(_buffer, 0, _filled);
        send(chunk).GetAwaiter().GetResult();
        _filled = 0;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => Written;
    public override long Position { get => Written; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
