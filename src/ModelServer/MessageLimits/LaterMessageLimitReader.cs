using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Grpc.Core;

namespace CharRnn.ModelServer.MessageLimits;

/// <summary>
/// A streaming call's request body, read through: every message's frame header is checked against the limit as it
/// arrives, and one over it is refused with RESOURCE_EXHAUSTED in <see cref="OversizedMessageRefusal"/>'s words
/// (its size, the limit, which Limits field). That middleware answers the first message before the handler runs;
/// a later one (Interact's next keystroke) would otherwise meet grpc-dotnet's bare "Received message exceeds the
/// maximum configured message size". Thrown from the handler's read, it ends the call with that status.
/// </summary>
/// <param name="refusal">The refusal's words for the size a frame header declared.</param>
public sealed class LaterMessageLimitReader(PipeReader inner, long maximum, Func<long, string> refusal) : PipeReader
{
    private const int FrameHeaderBytes = 5; // a compressed flag, then the message's length as a big-endian uint32

    private long _consumed; // bytes of the body consumed so far: where the last buffer handed out starts
    private long _nextHeader; // where the next message's frame header starts, from the body's start
    private ReadOnlySequence<byte> _last;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        Checked(await inner.ReadAsync(cancellationToken).ConfigureAwait(false));

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result)) return false;
        result = Checked(result);
        return true;
    }

    /// <summary>Checks each frame header the buffer now holds whole, once.</summary>
    private ReadResult Checked(ReadResult result)
    {
        _last = result.Buffer;
        Span<byte> header = stackalloc byte[FrameHeaderBytes];
        while (_nextHeader + FrameHeaderBytes <= _consumed + _last.Length)
        {
            _last.Slice(_nextHeader - _consumed, FrameHeaderBytes).CopyTo(header);
            var length = BinaryPrimitives.ReadUInt32BigEndian(header[1..]);
            if (length > maximum) throw new RpcException(new Status(StatusCode.ResourceExhausted, refusal(length)));
            _nextHeader += FrameHeaderBytes + length;
        }
        return result;
    }

    public override void AdvanceTo(SequencePosition consumed)
    {
        _consumed += _last.Slice(_last.Start, consumed).Length;
        inner.AdvanceTo(consumed);
    }

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        _consumed += _last.Slice(_last.Start, consumed).Length;
        inner.AdvanceTo(consumed, examined);
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();
    public override void Complete(Exception? exception = null) => inner.Complete(exception);
    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
}
