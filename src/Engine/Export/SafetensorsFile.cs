using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;
using CharRnn.Engine.Storage;
using static TorchSharp.torch;

namespace CharRnn.Engine.Export;

/// <summary>
/// Writes named tensors in the safetensors format (huggingface.co/docs/safetensors), which PyTorch users load
/// with safetensors.torch.load_file: an 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets}, "__metadata__": {string: string}}, then the tensors' raw
/// little-endian bytes, back to back in the header's order. Every tensor is written as F32. Small enough
/// to write by hand (no NuGet package for it is served here).
/// </summary>
public static class SafetensorsFile
{
    public const string Extension = ".safetensors";

    /// <summary>Writes the file atomically (temp file and rename): a reader sees the old file or the whole new one.</summary>
    public static void Write(string path, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata) =>
        AtomicFile.Write(path, stream => WriteTo(stream, tensors, metadata));

    /// <summary>The file's bytes, <paramref name="tensors"/> in the order given, as float32.</summary>
    public static void WriteTo(Stream stream, IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = Header(tensors, metadata);
        var padded = Padded(header.Length);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        stream.Write(length);
        stream.Write(header);
        for (var i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var (_, tensor) in tensors)
        {
            using var host = tensor.detach().to(ScalarType.Float32, CPU).contiguous();
            var values = host.data<float>().ToArray();
            if (!BitConverter.IsLittleEndian)
                for (var v = 0; v < values.Length; v++) values[v] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReverseEndianness(BitConverter.SingleToInt32Bits(values[v])));
            stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
        }
    }

    /// <summary>
    /// The size in bytes of the file <see cref="WriteTo"/> writes for these tensors and metadata, known before writing it
    /// (from the header and the tensors' shapes; nothing is copied from the device): a sender announces it up front.
    /// </summary>
    public static long SizeOf(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata) =>
        sizeof(ulong) + Padded(Header(tensors, metadata).Length) + tensors.Sum(t => t.Value.numel() * sizeof(float));

    /// <summary>The reference writer pads the header with spaces to a multiple of 8, so that the data starts aligned.</summary>
    private static int Padded(int headerBytes) => (headerBytes + 7) / 8 * 8;

    private static byte[] Header(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata) json.WriteString(key, value);
            json.WriteEndObject();
            long offset = 0;
            foreach (var (name, tensor) in tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var size in tensor.shape) json.WriteNumberValue(size);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset += tensor.numel() * sizeof(float));
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return header.ToArray();
    }
}
