using System.Security.Cryptography;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Export;
using CharRnn.ModelServer.Services;
using CharRnn.Protos.V1;
using static TorchSharp.torch;

namespace CharRnn.ModelServer.Tests;

/// <summary>ChunkedExportStream: the file ExportModel sends, in pieces as the engine writes it, never held whole.</summary>
public class ChunkedExportStreamTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static (List<ExportModelChunk> Sent, ChunkedExportStream Stream) Sending(int chunkBytes, Action<ExportModelChunk, ChunkedExportStream>? onSend = null)
    {
        var sent = new List<ExportModelChunk>();
        ChunkedExportStream? stream = null;
        stream = new ChunkedExportStream(chunk =>
        {
            onSend?.Invoke(chunk, stream!);
            sent.Add(chunk.Clone());
            return Task.CompletedTask;
        }, new ExportModelChunk { TotalBytes = 99, Checkpoint = "best.ckpt" }, chunkBytes);
        return (sent, stream);
    }

    [Theory]
    [InlineData(20)] // 2.5 pieces
    [InlineData(16)] // exactly 2: the last piece is a full one, not an empty one after it
    [InlineData(3)]  // one piece, which carries all four fields
    public void Pieces_of_at_most_the_chunk_size_join_into_the_bytes_written_with_the_sha256_in_the_last(int length)
    {
        var bytes = Enumerable.Range(0, length).Select(i => (byte)i).ToArray();
        var (sent, stream) = Sending(8);
        stream.Write(bytes.AsSpan(0, 2));
        stream.WriteByte(bytes[2]);
        stream.Write(bytes, 3, length - 3);
        var sha256 = stream.Complete();

        Assert.Equal(bytes, sent.SelectMany(c => c.Data).ToArray());
        Assert.Equal((length + 7) / 8, sent.Count);
        Assert.All(sent, c => Assert.InRange(c.Data.Length, 1, 8));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), sha256);
        Assert.Equal((99L, "best.ckpt"), (sent[0].TotalBytes, sent[0].Checkpoint));
        Assert.Equal(sha256, sent[^1].Sha256);
        Assert.All(sent.Skip(1), c => Assert.Equal((0L, ""), (c.TotalBytes, c.Checkpoint)));
        Assert.All(sent.SkipLast(1), c => Assert.Equal("", c.Sha256));
    }

    /// <summary>
    /// The first piece of a model's export is sent before the writer reaches its last tensor (a stream that held the
    /// file would send nothing until it was all written), and a send that fails (a client gone) stops the writer there.
    /// </summary>
    [Fact]
    public void The_first_piece_goes_before_the_last_tensor_is_written_and_a_failed_send_stops_the_writer()
    {
        using var trained = TrainedModel.LoadForGeneration(Path.Combine(server.Options.ModelsDirectory, "lstm", Engine.Training.Trainer.BestCheckpoint), CPU);
        var export = PyTorchExport.Of(trained, "lstm/best.ckpt");
        var lastTensorStarts = export.FileBytes - export.Tensors[^1].Value.numel() * sizeof(float);
        long writtenAtFirstSend = -1;
        var (sent, stream) = Sending(64, (_, s) =>
        {
            writtenAtFirstSend = s.Written;
            throw new IOException("the client went away");
        });

        Assert.Throws<IOException>(() => export.WriteTo(stream));
        Assert.Empty(sent);
        Assert.InRange(writtenAtFirstSend, 64, lastTensorStarts);
        Assert.True(stream.Written < export.FileBytes, $"{stream.Written} of {export.FileBytes} bytes written after the send failed");
    }
}
