using System.Buffers.Binary;
using System.Text.Json;

namespace CharRnn.Tests.Shared;

/// <summary>
/// A small safetensors reader of the tests' own, written from the format's description and not from the
/// engine's writer: it checks what a loader relies on (the header's length and JSON, F32 tensors whose byte
/// ranges follow one another from 0 to the end of the file, sizes that match their shapes).
/// </summary>
internal sealed record SafetensorsReading(IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Tensors, IReadOnlyDictionary<string, string> Metadata)
{
    public static SafetensorsReading Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw new InvalidDataException("shorter than the 8-byte header length");
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (8 + headerLength > bytes.Length) throw new InvalidDataException($"header length {headerLength} runs past the file's {bytes.Length} bytes");
        using var header = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        var dataStart = 8 + (int)headerLength;
        var metadata = new Dictionary<string, string>();
        var entries = new List<(string Name, long[] Shape, long Begin, long End)>();
        foreach (var property in header.RootElement.EnumerateObject())
        {
            if (property.Name == "__metadata__")
            {
                foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString()!; // values must be strings
                continue;
            }
            var dtype = property.Value.GetProperty("dtype").GetString();
            if (dtype != "F32") throw new InvalidDataException($"{property.Name}: dtype {dtype}, not F32");
            var shape = property.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            var offsets = property.Value.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[1] - offsets[0] != shape.Aggregate(1L, (a, b) => a * b) * 4)
                throw new InvalidDataException($"{property.Name}: offsets [{string.Join(", ", offsets)}] do not hold shape [{string.Join(", ", shape)}] of F32");
            entries.Add((property.Name, shape, offsets[0], offsets[1]));
        }
        long expectedBegin = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin))
        {
            if (entry.Begin != expectedBegin) throw new InvalidDataException($"{entry.Name} starts at {entry.Begin}, not at {expectedBegin}: the byte ranges must follow one another");
            expectedBegin = entry.End;
        }
        if (dataStart + expectedBegin != bytes.Length) throw new InvalidDataException($"the tensors end at {dataStart + expectedBegin}, the file at {bytes.Length}");
        var tensors = entries.ToDictionary(e => e.Name, e =>
        {
            var values = new float[(e.End - e.Begin) / 4];
            for (var i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(dataStart + (int)e.Begin + 4 * i));
            return (e.Shape, values);
        });
        return new SafetensorsReading(tensors, metadata);
    }
}
