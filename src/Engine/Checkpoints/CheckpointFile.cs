using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using CharRnn.Engine.Storage;
using static TorchSharp.torch;

namespace CharRnn.Engine.Checkpoints;

/// <summary>
/// The checkpoint file format: one self-describing file, written atomically (temp + rename).
///
///   "CHARRNN-CKPT\n"  u32 version  u32 n  n bytes of JSON metadata
///   u32 tensors, each: u16 n, name, u8 dtype, u8 rank, i64 × rank shape, u64 n, n raw bytes
///   u32 blobs,   each: u16 n, name, u64 n, n bytes
///   32 bytes: SHA-256 of everything before
///
/// The trailing hash makes a truncated or damaged file fail loudly, naming the file.
/// </summary>
public static class CheckpointFile
{
    public const int FormatVersion = 1;
    public const string Extension = ".ckpt";
    private static readonly byte[] Magic = "CHARRNN-CKPT\n"u8.ToArray();

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    private enum DType : byte { Float32 = 0, Int64 = 1, UInt8 = 2, Float64 = 3, Int32 = 4 }

    public static void Write(string path, Checkpoint checkpoint) => WriteEncoded(path, Encode(checkpoint));

    /// <summary>
    /// Writes a file's body as <see cref="Encode"/> made it, then its hash. This part touches no
    /// tensors, so it can run on another thread while the tensors change again.
    /// </summary>
    public static void WriteEncoded(string path, ReadOnlyMemory<byte> body) =>
        AtomicFile.Write(path, stream =>
        {
            stream.Write(body.Span);
            stream.Write(SHA256.HashData(body.Span));
        });

    /// <summary>A checkpoint is encoded in one .NET array: at most this many bytes.</summary>
    public static long MaxBytes => Array.MaxLength;

    /// <summary>Everything of the file but its trailing hash: metadata, tensors and blobs as bytes.</summary>
    public static ReadOnlyMemory<byte> Encode(Checkpoint checkpoint)
    {
        // Sized up front: growing by doubling would copy tens of MB several times over.
        var json = JsonSerializer.SerializeToUtf8Bytes(checkpoint.Metadata, Json);
        var size = 64L + json.Length + checkpoint.Tensors.Sum(kv => 64 + kv.Key.Length * 4 + kv.Value.NumberOfElements * kv.Value.ElementSize)
            + checkpoint.Blobs.Sum(kv => 16 + kv.Key.Length * 4 + kv.Value.LongLength);
        var buffer = new MemoryStream((int)Math.Min(size, Array.MaxLength));
        using (var w = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write((uint)FormatVersion);
            w.Write((uint)json.Length);
            w.Write(json);

            w.Write((uint)checkpoint.Tensors.Count);
            foreach (var (name, tensor) in checkpoint.Tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                using var scope = NewDisposeScope();
                var cpu = tensor.detach().cpu().contiguous();
                WriteName(w, name);
                w.Write((byte)ToDType(cpu.dtype, name));
                w.Write((byte)cpu.dim());
                foreach (var d in cpu.shape) w.Write(d);
                var bytes = cpu.bytes;
                w.Write((ulong)bytes.Length);
                w.Write(bytes);
            }

            w.Write((uint)checkpoint.Blobs.Count);
            foreach (var (name, blob) in checkpoint.Blobs.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                WriteName(w, name);
                w.Write((ulong)blob.Length);
                w.Write(blob);
            }
        }
        return new ReadOnlyMemory<byte>(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Reads a checkpoint; a missing, foreign, damaged or truncated file fails with a <see cref="CheckpointException"/> naming it.</summary>
    public static Checkpoint Read(string path) => Deserialize(ReadBytes(path), path);

    /// <summary>Only the metadata (the whole file's hash is still checked; no tensors are made): for listings.</summary>
    public static CheckpointMetadata ReadMetadata(string path)
    {
        using var checkpoint = Deserialize(ReadBytes(path), path, metadataOnly: true);
        return checkpoint.Metadata;
    }

    private static byte[] ReadBytes(string path)
    {
        if (!File.Exists(path)) throw new CheckpointException(path, "the file does not exist");
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) // unreadable, or over the 2 GB a checkpoint holds
        {
            throw new CheckpointException(path, $"it cannot be read ({e.Message})", damaged: true);
        }
    }

    /// <summary>Whether <paramref name="bytes"/> start as every checkpoint does (for a reader of another format to say what it was given).</summary>
    public static bool StartsAsCheckpoint(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Magic);

    public static Checkpoint Deserialize(byte[] bytes, string path, bool metadataOnly = false)
    {
        // Empty, or the start of a checkpoint's header and no more: a write cut short, not another kind of file.
        var prefix = bytes.AsSpan(0, Math.Min(bytes.Length, Magic.Length));
        if (bytes.Length < Magic.Length + 32 && prefix.SequenceEqual(Magic.AsSpan(0, prefix.Length)))
            throw new CheckpointException(path, $"it is damaged or truncated ({(bytes.Length == 0 ? "empty" : $"{bytes.Length} bytes")})", damaged: true);
        if (Export.SafetensorsReader.StartsAsSafetensors(bytes)) // an export given where its model goes: the way to a model of it
            throw new CheckpointException(path, "it is a .safetensors file, as charrnn export writes, not a checkpoint; make a model of it with charrnn import FILE --name NAME, then use that model");
        if (bytes.Length < Magic.Length + 32 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new CheckpointException(path, "it is not a CharRnn checkpoint (wrong header)");
        var body = bytes.AsSpan(0, bytes.Length - 32);
        if (!SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
            throw new CheckpointException(path, "it is damaged or truncated (checksum mismatch)", damaged: true);

        var tensors = new Dictionary<string, Tensor>();
        try
        {
            using var r = new BinaryReader(new MemoryStream(bytes, 0, body.Length, writable: false));
            r.ReadBytes(Magic.Length);
            var version = r.ReadUInt32();
            if (version != FormatVersion)
                throw new CheckpointException(path, $"it has format version {version}; this build reads version {FormatVersion}");
            var json = r.ReadBytes(checked((int)r.ReadUInt32()));
            var metadata = JsonSerializer.Deserialize<CheckpointMetadata>(json, Json)
                ?? throw new CheckpointException(path, "its metadata is empty");
            if (metadataOnly) return new Checkpoint(metadata, tensors, []);

            var tensorCount = r.ReadUInt32();
            for (uint i = 0; i < tensorCount; i++)
            {
                var name = ReadName(r);
                if (tensors.ContainsKey(name)) throw new CheckpointException(path, $"it holds tensor '{name}' twice");
                var dtype = FromDType((DType)r.ReadByte(), path, name);
                var rank = r.ReadByte();
                var shape = new long[rank];
                for (int d = 0; d < rank; d++) shape[d] = r.ReadInt64();
                var length = checked((int)r.ReadUInt64());
                var data = r.ReadBytes(length);
                if (data.Length != length) throw new EndOfStreamException();
                var t = empty(shape, dtype);
                tensors[name] = t; // disposed with the others if what follows throws
                if (t.NumberOfElements * t.ElementSize != length)
                    throw new CheckpointException(path, $"tensor '{name}' has {length} bytes for shape [{string.Join(", ", shape)}]");
                data.CopyTo(t.bytes);
            }

            var blobs = new Dictionary<string, byte[]>();
            var blobCount = r.ReadUInt32();
            for (uint i = 0; i < blobCount; i++)
            {
                var name = ReadName(r);
                var length = checked((int)r.ReadUInt64());
                var data = r.ReadBytes(length);
                if (data.Length != length) throw new EndOfStreamException();
                blobs[name] = data;
            }
            if (r.BaseStream.Position != body.Length)
                throw new CheckpointException(path, "it has unexpected bytes after its last section");
            return new Checkpoint(metadata, tensors, blobs);
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or OverflowException or ArgumentException or NotSupportedException)
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw new CheckpointException(path, $"its contents are malformed ({e.Message})", damaged: true);
        }
        catch
        {
            foreach (var t in tensors.Values) t.Dispose();
            throw;
        }
    }

    private static void WriteName(BinaryWriter w, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        w.Write((ushort)bytes.Length);
        w.Write(bytes);
    }

    private static string ReadName(BinaryReader r)
    {
        var length = r.ReadUInt16();
        var bytes = r.ReadBytes(length);
        if (bytes.Length != length) throw new EndOfStreamException();
        return Encoding.UTF8.GetString(bytes);
    }

    private static DType ToDType(ScalarType type, string name) => type switch
    {
        ScalarType.Float32 => DType.Float32,
        ScalarType.Int64 => DType.Int64,
        ScalarType.Byte => DType.UInt8,
        ScalarType.Float64 => DType.Float64,
        ScalarType.Int32 => DType.Int32,
        _ => throw new NotSupportedException($"Tensor '{name}' has type {type}, which checkpoints do not store."),
    };

    private static ScalarType FromDType(DType type, string path, string name) => type switch
    {
        DType.Float32 => ScalarType.Float32,
        DType.Int64 => ScalarType.Int64,
        DType.UInt8 => ScalarType.Byte,
        DType.Float64 => ScalarType.Float64,
        DType.Int32 => ScalarType.Int32,
        _ => throw new CheckpointException(path, $"tensor '{name}' has unknown type code {(byte)type}"),
    };
}
