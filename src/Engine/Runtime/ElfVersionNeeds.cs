// Part of the GLIBCXX fix (rules and why: GlibcxxCompatibility.cs). Also compiled into the build task
// (Directory.Build.targets joins these files into one), so netstandard2.0-level APIs only, no dependencies.
#nullable enable
namespace CharRnn.Engine.Runtime
{
    using System;
    using System.Collections.Generic;
    using System.IO;
    using System.Linq;

    /// <summary>Parsed version tables of one ELF file held in memory.</summary>
    public sealed partial class ElfVersionNeeds
    {
        public const ushort VerFlagWeak = 0x2;
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;

        private ElfVersionNeeds(byte[] bytes, string path)
        {
            _bytes = bytes;
            Path = path;
            ParseSections();
            Needs = ReadNeeds();
            Definitions = ReadDefinitions();
        }

        public string Path { get; }
        public IReadOnlyList<ElfVersionNeed> Needs { get; }
        /// <summary>Versions this file itself defines (.gnu.version_d), e.g. GLIBCXX_3.4.30 for libstdc++.</summary>
        public IReadOnlyCollection<string> Definitions { get; }

        public static ElfVersionNeeds Read(string path) => Parse(File.ReadAllBytes(path), path);

        public static ElfVersionNeeds Parse(byte[] bytes, string path)
        {
            if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
                throw new InvalidDataException($"{path}: not an ELF file.");
            if (bytes[4] != 2 || bytes[5] != 1)
                throw new InvalidDataException($"{path}: only 64-bit little-endian ELF files are supported (class {bytes[4]}, data {bytes[5]}).");
            return new ElfVersionNeeds(bytes, path);
        }

        /// <summary>Names of the dynamic symbols whose version index is <paramref name="versionIndex"/>.</summary>
        public IReadOnlyList<string> SymbolsUsingVersion(ushort versionIndex)
        {
            var dynsym = _sections.FirstOrDefault(s => s.Type == ShtDynsym);
            var versym = _sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
            if (dynsym == null || versym == null) return Array.Empty<string>();
            var names = _sections[(int)dynsym.Link];
            var count = dynsym.Size / 24;
            var result = new List<string>();
            for (long i = 0; i < count; i++)
            {
                var version = (ushort)(U16(versym.Offset + i * 2) & 0x7fff);
                if (version != versionIndex) continue;
                result.Add(CString(names.Offset + U32(dynsym.Offset + i * 24)));
            }
            return result;
        }

        /// <summary>A copy of the file bytes with the given version need marked weak.</summary>
        public byte[] WithWeakNeed(ElfVersionNeed need)
        {
            var copy = (byte[])_bytes.Clone();
            var flags = (ushort)(need.Flags | VerFlagWeak);
            copy[need.FlagsOffset] = (byte)(flags & 0xff);
            copy[need.FlagsOffset + 1] = (byte)(flags >> 8);
            return copy;
        }

        private List<ElfVersionNeed> ReadNeeds()
        {
            var result = new List<ElfVersionNeed>();
            var verneed = _sections.FirstOrDefault(s => s.Type == ShtGnuVerneed);
            if (verneed == null) return result;
            var strings = _sections[(int)verneed.Link].Offset;
            long entry = verneed.Offset;
            for (uint n = 0; n < verneed.Info; n++)
            {
                var file = CString(strings + U32(entry + 4));
                long aux = entry + U32(entry + 8);
                int auxCount = U16(entry + 2);
                for (int a = 0; a < auxCount; a++)
                {
                    result.Add(new ElfVersionNeed(file, CString(strings + U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux + 4));
                    uint nextAux = U32(aux + 12);
                    if (nextAux == 0) break;
                    aux += nextAux;
                }
                uint next = U32(entry + 12);
                if (next == 0) break;
                entry += next;
            }
            return result;
        }

        private HashSet<string> ReadDefinitions()
        {
            var result = new HashSet<string>(StringComparer.Ordinal);
            var verdef = _sections.FirstOrDefault(s => s.Type == ShtGnuVerdef);
            if (verdef == null) return result;
            var strings = _sections[(int)verdef.Link].Offset;
            long entry = verdef.Offset;
            for (uint n = 0; n < verdef.Info; n++)
            {
                // The first Verdaux names the version itself; later ones name its parents.
                result.Add(CString(strings + U32(entry + U32(entry + 12))));
                uint next = U32(entry + 16);
                if (next == 0) break;
                entry += next;
            }
            return result;
        }
    }
}
