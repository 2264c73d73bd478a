using System.Buffers.Binary;
using System.Text;
using CharRnn.Engine.Checkpoints;
using CharRnn.Engine.Export;

namespace CharRnn.Engine.Tests;

/// <summary>
/// A server imports safetensors files from any client: every file, however broken, must either import or be refused
/// with the import's own <see cref="InvalidDataException"/> (INVALID_ARGUMENT on a server, exit 2 locally), never
/// another exception (INTERNAL) and never a hang; and what imports holds no figure a trained model cannot have (a negative
/// vocab count or loss, or a character counted 0). A tiny valid export, mutated 447 ways from a fixed seed.
/// </summary>
public class SafetensorsImportFuzzTests
{
    private const int Seed = 178;

    [Fact]
    public void Every_mutation_of_a_valid_export_imports_or_is_refused_as_an_invalid_file()
    {
        using var dir = new TempFolder();
        var valid = ValidExport(dir);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(valid);
        var header = Encoding.UTF8.GetString(valid, 8, headerLength);
        var data = valid[(8 + headerLength)..];
        Assert.Null(Outcome(valid)); // the unmutated file imports

        var random = new Random(Seed);
        var mutations = new List<(string What, byte[] Bytes)>();

        // Bit flips in the length field and the header.
        for (var i = 0; i < 240; i++)
        {
            var at = i < 16 ? random.Next(8) : random.Next(8 + headerLength);
            var bit = random.Next(8);
            var bytes = (byte[])valid.Clone();
            bytes[at] ^= (byte)(1 << bit);
            mutations.Add(($"bit {bit} of byte {at} flipped", bytes));
        }

        // Cut short at every 1/16th of the file.
        for (var k = 0; k < 16; k++)
            mutations.Add(($"truncated to {k}/16", valid[..(valid.Length * k / 16)]));

        // The header length field set to what it must not be.
        foreach (var length in new ulong[] { 0, 1, 2, (ulong)headerLength - 1, (ulong)headerLength + 1, (ulong)(valid.Length - 8), (ulong)valid.Length,
                     SafetensorsReader.MaxHeaderBytes, SafetensorsReader.MaxHeaderBytes + 1, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue, long.MaxValue, ulong.MaxValue })
        {
            var bytes = (byte[])valid.Clone();
            BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
            mutations.Add(($"header length {length}", bytes));
        }

        // Fields of the JSON edited (metadata values are JSON inside JSON strings: their quotes are escaped).
        var edits = new (string Find, string Replace)[]
        {
            ("\"F32\"", "\"I64\""), ("\"F32\"", "\"F16\""), ("\"F32\"", "\"F64\""), ("\"F32\"", "\"f32\""), ("\"F32\"", "32"), ("\"F32\"", "null"),
            ("\"shape\":[", "\"shape\":[-1,"), ("\"shape\":[", "\"shape\":[0,"), ("\"shape\":[", "\"shape\":[4611686018427387904,"), ("\"shape\":[", "\"shape\":[9223372036854775807,"),
            ("\"shape\":[", "\"shape\":[1.5,"), ("\"shape\":[", "\"shape\":[\"2\","), ("\"shape\":[", "\"shape\":[[1],"), ("\"shape\":[", "\"shape\":{\"a\":["),
            ("\"data_offsets\":[0,", "\"data_offsets\":[-4,"), ("\"data_offsets\":[0,", "\"data_offsets\":[0,0,"), ("\"data_offsets\":[0,", "\"data_offsets\":[18446744073709551615,"),
            ("\"data_offsets\":[0,", "\"data_offsets\":[9223372036854775807,"), ("\"data_offsets\":[", "\"data_offsets\":[4,"),
            ("\"__metadata__\"", "\"__metadata\""), ("\"__metadata__\":{", "\"__metadata__\":{\"x\":1,"), ("\"__metadata__\":{", "\"__metadata__\":["),
            ("\"__metadata__\":{", "\"__metadata__\":{\"architecture\":\"loop\","), ("\"charrnn_export_version\":\"1\"", "\"charrnn_export_version\":\"one\""),
            ("\"architecture\":\"stateful-gru\"", "\"architecture\":\"stateful-lstm\""), ("\"architecture\":\"stateful-gru\"", "\"architecture\":\"\""),
            ("\\u0022n_hidden\\u0022:", "\\u0022n_hidden\\u0022:1e9,\\u0022x\\u0022:"), ("\\u0022n_hidden\\u0022:32", "\\u0022n_hidden\\u0022:4096"),
            ("\\u0022n_hidden\\u0022:32", "\\u0022n_hidden\\u0022:-1"), ("\\u0022n_hidden\\u0022:32", "\\u0022n_hidden\\u0022:\\u002232\\u0022"),
            ("\\u0022n_hidden\\u0022:32", "\\u0022n_hidden\\u0022:1e999"), ("\\u0022layers\\u0022:2", "\\u0022layers\\u0022:8"), ("\\u0022n_fac\\u0022:8", "\\u0022n_fac\\u0022:1024"),
            ("\"hyperparameters\":\"", "\"hyperparameters\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["),
            ("\"vocab\":\"[", "\"vocab\":\"[\\u0022a\\u0022,"), ("\"vocab\":\"[", "\"vocab\":\"[null,"), ("\"vocab\":\"[", "\"vocab\":\"[\\u0022\\\\u0000\\u0022,"),
            ("\"vocab\":\"[", "\"vocab\":\"{"), ("\"vocab\":\"[", "\"vocab\":\"[\\u0022\\\\ud800\\u0022,"),
            ("\"hyperparameters\":\"{", "\"hyperparameters\":\"{\\u0022\\\\udc00\\u0022:1,"), ("\"vocab_counts\":\"[", "\"vocab_counts\":\"[\\u0022\\\\ud800\\u0022,"), ("\"vocab_counts\":\"[", "\"vocab_counts\":\"[-1,"), ("\"vocab_counts\":\"[", "\"vocab_counts\":\"[1.5,"),
            ("\"vocab_counts\":\"[0,", "\"vocab_counts\":\"[-9223372036854775808,"), ("\"vocab_counts\":\"[0,", "\"vocab_counts\":\"[3,"),
            ("\"valid_loss\":\"", "\"valid_loss\":\"-"),
            ("\"lowercase\":\"false\"", "\"lowercase\":\"False\""), ("\"lowercase\":\"false\"", "\"lowercase\":false"), ("\"lowercase\":\"false\"", "\"lowercase\":\"true\""),
            ("\"unknown_index\":\"\"", "\"unknown_index\":\"2\""), ("\"unknown_index\":\"\"", "\"unknown_index\":\"1\""),
            ("\"epoch\":\"", "\"epoch\":\"-"), ("\"step\":\"", "\"step\":\"99999999999999999999"), ("\"valid_loss\":\"", "\"valid_loss\":\"NaN"),
            ("\"corpus\":\"", "\"corpus\":\"\\u0000\\ud800"), ("\"corpus\":\"", "\"corpus\":\"\\udc00"), ("{", "{\"e.weight\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"),
        };
        foreach (var (find, replace) in edits)
        {
            Assert.True(header.Contains(find, StringComparison.Ordinal), $"the export's header has no {find} to edit: {header[..Math.Min(400, header.Length)]}");
            mutations.Add(($"{find} -> {replace}", File(ReplaceFirst(header, find, replace), data)));
        }

        // Random tokens put at random places in the header, and random pieces of it cut out.
        string[] tokens = ["-", "9999999999999999999999", "\"", "\\", "{", "}", "[", "]", ",", ":", "null", "true", "\\u0000", "\\ud800", "1e999", "-0", "\u00ff"];
        for (var i = 0; i < 120; i++)
        {
            var at = random.Next(header.Length);
            var edited = i % 3 == 2
                ? header.Remove(at, Math.Min(header.Length - at, 1 + random.Next(12)))
                : header.Insert(at, tokens[random.Next(tokens.Length)]);
            mutations.Add(($"header edited at {at}: {(i % 3 == 2 ? "cut" : "inserted")}", File(edited, data)));
        }

        var faults = mutations.Select(m => (m.What, Fault: Outcome(m.Bytes))).Where(m => m.Fault != null).Select(m => $"{m.What}: {m.Fault}").ToList();
        Assert.True(faults.Count == 0, $"{faults.Count} of {mutations.Count} mutations threw something other than InvalidDataException or imported what no model has:\n{string.Join("\n", faults)}");
    }

    /// <summary>
    /// The file imported as a server imports it (read, made a checkpoint, encoded for writing): null when it imports or is
    /// refused with the import's exception; otherwise the exception that escaped.
    /// </summary>
    private static string? Outcome(byte[] bytes)
    {
        try
        {
            using var contents = SafetensorsReader.Read(bytes, "fuzzed.safetensors");
            using var checkpoint = PyTorchImport.ToCheckpoint(contents, "fuzzed.safetensors", DateTimeOffset.UnixEpoch);
            CheckpointFile.Encode(checkpoint);
            return Impossible(checkpoint.Metadata);
        }
        catch (InvalidDataException e)
        {
            Assert.StartsWith("'fuzzed.safetensors' cannot be imported: ", e.Message); // it says which file and what is wrong
            return null;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message.Split('\n')[0]}";
        }
    }

    /// <summary>What no trained model has, in an import's checkpoint (generation takes the counts' logs and their sum), or null.</summary>
    private static string? Impossible(CheckpointMetadata meta)
    {
        var counts = meta.Vocabulary.Counts;
        // Every symbol but padding and unknown is a character of the text, there at least once.
        var characterUncounted = counts.Where((c, i) => i > 0 && !(i == 1 && meta.Vocabulary.HasUnknown)).Any(c => c == 0);
        if (counts.Any(c => c < 0) || counts[0] != 0 || characterUncounted) return $"imported with vocab_counts [{string.Join(", ", counts)}]";
        try { _ = counts.Sum(); } // checked, as generation's sum
        catch (OverflowException) { return $"imported with vocab_counts whose sum overflows: [{string.Join(", ", counts)}]"; }
        if (meta.Imported?.ExportedValidLoss is < 0) return $"imported with valid_loss {meta.Imported.ExportedValidLoss}";
        return null;
    }

    private static byte[] ValidExport(TempFolder dir)
    {
        using var trained = PyTorchExportTests.Trained(dir, "stateful-gru");
        var stream = new MemoryStream();
        PyTorchExport.Of(trained, "m/last.ckpt").WriteTo(stream);
        return stream.ToArray();
    }

    private static string ReplaceFirst(string text, string find, string replace)
    {
        var at = text.IndexOf(find, StringComparison.Ordinal);
        return text[..at] + replace + text[(at + find.Length)..];
    }

    private static byte[] File(string header, byte[] data) => PyTorchImportTests.Raw(header, data);
}
