using System.Buffers.Binary;
using System.Text.Json;
using static TorchSharp.torch;

namespace CharRnn.Engine.Export;

/// <summary>A safetensors file as read: its tensors (float32, on the CPU, owned by the holder) in the header's order, and its metadata.</summary>
public sealed class SafetensorsContents(IReadOnlyList<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string> metadata) : IDisposable
{
    public IReadOnlyList<KeyValuePair<string, Tensor>> Tensors { get; } = tensors;
    public IReadOnlyDictionary<string, string> Metadata { get; } = metadata;

    public void Dispose()
    {
        foreach (var (_, tensor) in Tensors) tensor.Dispose();
    }
}

/// <summary>
/// Reads a safetensors file (the format <see cref="SafetensorsFile"/> writes), strictly: a header length that fits
/// the file, a JSON object whose entries each have a dtype, a shape and data_offsets, byte ranges that follow one
/// another from 0 to the file's end with exactly the bytes their shape needs, and string metadata. F32 is read as
/// it is; F16, BF16 and F64 (what PyTorch users save after model.half(), .bfloat16() or .double()) are converted
/// to F32, the type every engine model computes in. Any other dtype, and every other fault, is an
/// <see cref="InvalidDataException"/> naming the file, what is wrong and what is expected.
/// </summary>
public static class SafetensorsReader
{
    /// <summary>Headers this long are refused before they are read: the reference library's own limit is 100 MB.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>
    /// The most tensors a file may have: each is a torch tensor of a few hundred bytes however small its data (a header
    /// of 200,000 empty tensors, 11 MB, took 330 MB), and an engine model has at most 35 (a stateful RNN, GRU or LSTM of 8 layers).
    /// </summary>
    public const int MaxTensors = 1024;

    private static readonly Dictionary<string, (ScalarType Type, int Bytes)> DTypes = new()
    {
        ["F32"] = (ScalarType.Float32, 4),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["F64"] = (ScalarType.Float64, 8),
    };

    /// <summary>
    /// Whether <paramref name="bytes"/> start as a safetensors file does: a header length that fits them, then a JSON object's '{'.
    /// For a loader of another format to say what it was given; <see cref="Read(byte[], string)"/> checks the rest.
    /// </summary>
    public static bool StartsAsSafetensors(ReadOnlySpan<byte> bytes) =>
        bytes.Length > 8 && BinaryPrimitives.ReadUInt64LittleEndian(bytes) is var length && length <= MaxHeaderBytes
        && (long)length <= bytes.Length - 8 && bytes[8] == (byte)'{';

    public static string AcceptedDTypes => string.Join(", ", DTypes.Keys);

    /// <param name="shownAs">What errors call the file, when not its path (a server's copy of a file a client sent: the client's name for it).</param>
    public static SafetensorsContents Read(string path, string? shownAs = null)
    {
        if (!File.Exists(path)) throw Fault(shownAs ?? path, Directory.Exists(path) ? "it is a folder; give the .safetensors file" : "no such file");
        return Read(File.ReadAllBytes(path), shownAs ?? path);
    }

    /// <summary>The file's bytes, read as <see cref="Read(string, string?)"/> reads a file; <paramref name="shownAs"/> is what errors call it.</summary>
    public static SafetensorsContents Read(byte[] bytes, string shownAs)
    {
        var path = shownAs; // only the faults' name for the file
        // A model's own file, whose first bytes would read as a header length of some 3e18: say what it is and what import takes.
        if (Checkpoints.CheckpointFile.StartsAsCheckpoint(bytes))
            throw Fault(path, "it is a charrnn checkpoint (.ckpt), which is a model already, not a .safetensors file as charrnn export writes; " +
                              "give its path to generate, eval or train --init-from as it is, or import its export (charrnn export CKPT --out FILE.safetensors)");
        if (bytes.Length < 8)
            throw Fault(path, $"it has {bytes.Length} bytes, fewer than the 8-byte header length every safetensors file starts with (empty or truncated)");
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes || (long)headerLength > bytes.Length - 8)
            throw Fault(path, $"its header length is {headerLength} bytes, but the file has {bytes.Length - 8} after the length " +
                              $"(truncated, or not a safetensors file; the header must fit the file and be at most {MaxHeaderBytes:N0} bytes)");
        var dataStart = 8 + (int)headerLength;
        JsonDocument header;
        try { header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength)); }
        catch (JsonException e) { throw Fault(path, $"its header is not well-formed JSON ({e.Message}); a safetensors header is one JSON object"); }
        using (header)
        {
            if (header.RootElement.ValueKind != JsonValueKind.Object)
                throw Fault(path, $"its header is a JSON {header.RootElement.ValueKind.ToString().ToLowerInvariant()}, not the object of tensors a safetensors header is");
            var metadata = new Dictionary<string, string>();
            var entries = new List<Entry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            try
            {
                foreach (var property in header.RootElement.EnumerateObject())
                {
                    // JSON lets a name repeat (the last one wins in most readers): a file that says two things is refused.
                    if (!names.Add(property.Name))
                        throw Fault(path, property.Name == "__metadata__" ? "its header has __metadata__ twice; it may appear once" : $"its header names tensor '{property.Name}' twice; each name may appear once");
                    if (property.Name == "__metadata__") ReadMetadata(path, property.Value, metadata);
                    else if (entries.Count == MaxTensors)
                        throw Fault(path, $"its header has more than {MaxTensors:N0} tensors; an engine model has at most 35 (a stateful RNN, GRU or LSTM of 8 layers), and no more are read");
                    else entries.Add(ReadEntry(path, property));
                }
            }
            catch (InvalidOperationException e) // a name or string that is no text: bytes that are not UTF-8, or an escaped lone surrogate (\ud800)
            {
                throw Fault(path, $"its header is not well-formed JSON ({e.Message}); its names and strings must be UTF-8 text");
            }
            CheckContiguous(path, entries, bytes.Length - (long)dataStart);
            var tensors = new List<KeyValuePair<string, Tensor>>();
            try
            {
                foreach (var entry in entries) tensors.Add(KeyValuePair.Create(entry.Name, ToTensor(bytes, dataStart, entry)));
            }
            catch
            {
                foreach (var (_, tensor) in tensors) tensor.Dispose();
                throw;
            }
            return new SafetensorsContents(tensors, metadata);
        }
    }

    private sealed record Entry(string Name, string DType, long[] Shape, long Begin, long End);

    private static void ReadMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw Fault(path, "its __metadata__ is not a JSON object of strings");
        foreach (var m in value.EnumerateObject())
        {
            if (metadata.ContainsKey(m.Name))
                throw Fault(path, $"its __metadata__ has key '{m.Name}' twice; each key may appear once");
            if (m.Value.ValueKind != JsonValueKind.String)
                throw Fault(path, $"its __metadata__ key '{m.Name}' holds a JSON {m.Value.ValueKind.ToString().ToLowerInvariant()}; safetensors metadata values are strings");
            metadata[m.Name] = m.Value.GetString()!;
        }
    }

    private static Entry ReadEntry(string path, JsonProperty property)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !value.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array)
            throw Fault(path, $"its header entry '{name}' is not {{\"dtype\": \"F32\", \"shape\": [...], \"data_offsets\": [begin, end]}}");
        var dtype = dtypeElement.GetString()!;
        if (!DTypes.TryGetValue(dtype, out var type))
            throw Fault(path, $"tensor '{name}' has dtype {dtype}; the weights must be floating point: {AcceptedDTypes} (F16, BF16 and F64 are converted to F32)");
        var shape = Longs(path, name, "shape", shapeElement);
        var offsets = Longs(path, name, "data_offsets", offsetsElement);
        if (shape.Any(d => d < 0)) throw Fault(path, $"tensor '{name}' has a negative size in its shape [{string.Join(", ", shape)}]");
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
            throw Fault(path, $"tensor '{name}' has data_offsets [{string.Join(", ", offsets)}]; expected [begin, end] with 0 <= begin <= end");
        long bytes;
        // Checked: a byte count that wraps (2^62 floats are 2^64 bytes, i.e. 0) would pass for an empty range and then be allocated.
        try { bytes = checked(shape.Aggregate(1L, (a, b) => checked(a * b)) * type.Bytes); }
        catch (OverflowException) { throw Fault(path, $"tensor '{name}' has shape [{string.Join(", ", shape)}], too large to hold"); }
        if (offsets[1] - offsets[0] != bytes)
            throw Fault(path, $"tensor '{name}' has {offsets[1] - offsets[0]} bytes (data_offsets [{offsets[0]}, {offsets[1]}]); its shape [{string.Join(", ", shape)}] of {dtype} needs {bytes}");
        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] Longs(string path, string name, string field, JsonElement array)
    {
        var values = new List<long>();
        foreach (var e in array.EnumerateArray())
        {
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var v))
                throw Fault(path, $"tensor '{name}' has a {field} that is not a list of whole numbers");
            values.Add(v);
        }
        return values.ToArray();
    }

    /// <summary>The byte ranges, in order, must tile the data from 0 to the file's end: no gap, no overlap, nothing after.</summary>
    private static void CheckContiguous(string path, List<Entry> entries, long dataBytes)
    {
        long expected = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin != expected)
                throw Fault(path, $"tensor '{entry.Name}' starts at byte {entry.Begin} of the data, expected {expected}: the tensors' byte ranges must follow one another without gaps or overlaps");
            expected = entry.End;
        }
        if (expected != dataBytes)
            throw Fault(path, expected > dataBytes
                ? $"its tensors need {expected} bytes of data, but the file has {dataBytes} after the header (truncated)"
                : $"it has {dataBytes - expected} bytes after its last tensor's data, which no header entry covers");
    }

    private static Tensor ToTensor(byte[] bytes, int dataStart, Entry entry)
    {
        var (type, _) = DTypes[entry.DType];
        var raw = empty(entry.Shape, type);
        try
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Reading safetensors needs a little-endian machine.");
            bytes.AsSpan(dataStart + (int)entry.Begin, (int)(entry.End - entry.Begin)).CopyTo(raw.bytes);
            return type == ScalarType.Float32 ? raw : raw.to(ScalarType.Float32);
        }
        finally
        {
            if (type != ScalarType.Float32) raw.Dispose();
        }
    }

    /// <summary>The error for a file that cannot be imported (shared with PyTorchImport, whose faults are the file's too).</summary>
    internal static InvalidDataException Fault(string path, string problem) => new($"'{path}' cannot be imported: {problem}.");
}
