// Part of the GLIBCXX fix (rules and why: GlibcxxCompatibility.cs). Also compiled into the build task
// (Directory.Build.targets joins these files into one), so netstandard2.0-level APIs only, no dependencies.
#nullable enable
namespace CharRnn.Engine.Runtime
{
    using System.Collections.Generic;
    using System.IO;
    using System.Text;

    /// <summary>The raw file: its section header table and little-endian reads of its bytes.</summary>
    public sealed partial class ElfVersionNeeds
    {
        private readonly byte[] _bytes;
        private readonly List<Section> _sections = new List<Section>();

        private void ParseSections()
        {
            long shoff = (long)U64(0x28);
            int shentsize = U16(0x3A), shnum = U16(0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > _bytes.Length)
                throw new InvalidDataException($"{Path}: section header table lies outside the file (truncated?).");
            for (int i = 0; i < shnum; i++)
            {
                long at = shoff + (long)i * shentsize;
                var section = new Section(U32(at + 4), (long)U64(at + 0x18), (long)U64(at + 0x20), U32(at + 0x28), U32(at + 0x2C));
                if (section.Type != 8 /* NOBITS */ && section.Offset + section.Size > _bytes.Length)
                    throw new InvalidDataException($"{Path}: section {i} lies outside the file (truncated?).");
                _sections.Add(section);
            }
        }

        private ushort U16(long at) => (ushort)(_bytes[at] | _bytes[at + 1] << 8);
        private uint U32(long at) => (uint)(U16(at) | U16(at + 2) << 16);
        private ulong U64(long at) => U32(at) | (ulong)U32(at + 4) << 32;

        private string CString(long at)
        {
            if (at < 0 || at >= _bytes.Length) throw new InvalidDataException($"{Path}: string offset {at} lies outside the file.");
            long end = at;
            while (end < _bytes.Length && _bytes[end] != 0) end++;
            return Encoding.ASCII.GetString(_bytes, (int)at, (int)(end - at));
        }

        private sealed class Section
        {
            public Section(uint type, long offset, long size, uint link, uint info)
            {
                Type = type; Offset = offset; Size = size; Link = link; Info = info;
            }
            public uint Type { get; }
            public long Offset { get; }
            public long Size { get; }
            public uint Link { get; }
            public uint Info { get; }
        }
    }
}
