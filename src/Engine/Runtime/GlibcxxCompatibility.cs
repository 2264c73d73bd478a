// Makes TorchSharp's native library load on systems whose libstdc++ predates GLIBCXX_3.4.32.
//
// Why this exists: TorchSharp 0.107.0's libLibTorchSharp.so was linked by GCC 13, which adds a
// reference to std::ios_base_library_init (GLIBCXX_3.4.32) only to pull in the newer libstdc++'s
// iostream initialisation. Nothing calls it. Older libstdc++ (Debian 12: GLIBCXX_3.4.30) then
// refuses to load the library. Marking that one version need weak (VER_FLG_WEAK) lets the
// dynamic loader accept it. GlibcxxCompatibility.Decide holds the rules for when that is safe.
//
// This file is compiled twice: into CharRnn.Engine (runtime diagnosis, tests) and, on its own,
// by MSBuild's RoslynCodeTaskFactory as the build task in Directory.Build.targets. The task
// factory takes exactly one source file, so the ELF reader, the policy and the task all live
// here; it targets netstandard2.0-level APIs only and has no dependencies.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace CharRnn.Engine.Runtime
{
    /// <summary>One version a library needs from another (an Elf64_Vernaux entry).</summary>
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string name, ushort flags, ushort index, long flagsOffset)
        {
            File = file; Name = name; Flags = flags; Index = index; FlagsOffset = flagsOffset;
        }

        /// <summary>The needed library, e.g. "libstdc++.so.6".</summary>
        public string File { get; }
        /// <summary>The version name, e.g. "GLIBCXX_3.4.32".</summary>
        public string Name { get; }
        public ushort Flags { get; }
        /// <summary>The version index symbols refer to in .gnu.version.</summary>
        public ushort Index { get; }
        /// <summary>File offset of vna_flags, for patching.</summary>
        public long FlagsOffset { get; }
        public bool IsWeak => (Flags & ElfVersionNeeds.VerFlagWeak) != 0;
    }

    /// <summary>Parsed version tables of one ELF file held in memory.</summary>
    public sealed class ElfVersionNeeds
    {
        public const ushort VerFlagWeak = 0x2;
        private const uint ShtDynsym = 11;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;
        private const uint ShtGnuVersym = 0x6fffffff;

        private readonly byte[] _bytes;
        private readonly List<Section> _sections = new List<Section>();

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

    public enum GlibcxxOutcome
    {
        /// <summary>The library does not need the version at all.</summary>
        NotNeeded,
        /// <summary>The system libstdc++ defines the version and symbols other than the never-called one use it: the file is left alone.</summary>
        SystemProvides,
        /// <summary>The need is already weak (patched before).</summary>
        AlreadyWeak,
        /// <summary>The need was (or, from Decide, should be) marked weak; a copy still strong loads only where the system has the version.</summary>
        Patched,
        /// <summary>Weakening would not be safe or would not help; Reason says why.</summary>
        Refused,
    }

    public sealed class GlibcxxDecision
    {
        public GlibcxxDecision(GlibcxxOutcome outcome, string reason, ElfVersionNeed? need = null)
        {
            Outcome = outcome; Reason = reason; Need = need;
        }
        public GlibcxxOutcome Outcome { get; }
        public string Reason { get; }
        public ElfVersionNeed? Need { get; }
    }

    public static class GlibcxxCompatibility
    {
        public const string Version = "GLIBCXX_3.4.32";
        public const string OnlySymbol = "_ZSt21ios_base_library_initv";
        public const string Library = "libstdc++.so.6";

        /// <summary>
        /// Weaken the need when the library needs <see cref="Version"/> and the one symbol bound to it
        /// is std::ios_base_library_init (never called): whatever this system has, since a build
        /// or publish made here may run on one without it (a weak need binds as before where the
        /// version exists). Refused where this system lacks the version and weakening would be
        /// unsafe (other symbols use it) or would not help (other versions are missing too).
        /// </summary>
        public static GlibcxxDecision Decide(ElfVersionNeeds library, IReadOnlyCollection<string> systemVersions,
            string version = Version, string onlySymbol = OnlySymbol)
        {
            var need = library.Needs.FirstOrDefault(n => n.File == Library && n.Name == version);
            if (need == null)
                return new GlibcxxDecision(GlibcxxOutcome.NotNeeded, $"{library.Path} does not need {version}.");
            if (need.IsWeak)
                return new GlibcxxDecision(GlibcxxOutcome.AlreadyWeak, $"{library.Path}: {version} is already a weak need.", need);
            var provided = systemVersions.Contains(version);
            var symbols = library.SymbolsUsingVersion(need.Index);
            if (symbols.Count != 1 || symbols[0] != onlySymbol)
                return provided
                    ? new GlibcxxDecision(GlibcxxOutcome.SystemProvides, $"the system {Library} provides {version}, which [{string.Join(", ", symbols)}] use; {library.Path} left as it is.", need)
                    : new GlibcxxDecision(GlibcxxOutcome.Refused,
                        $"{library.Path}: {version} is used by [{string.Join(", ", symbols)}], not only {onlySymbol}; weakening it would break calls. Install a libstdc++ with {version} (GCC 13 or newer).", need);
            if (provided)
                return new GlibcxxDecision(GlibcxxOutcome.Patched,
                    $"{library.Path}: marked the {version} need weak (only {onlySymbol}, never called, uses it): the system here provides it, but a copy of this output may run where it does not (Debian 12).", need);
            var otherMissing = library.Needs
                .Where(n => n.File == Library && n.Name != version && !n.IsWeak && !systemVersions.Contains(n.Name))
                .Select(n => n.Name).ToList();
            if (otherMissing.Count > 0)
                return new GlibcxxDecision(GlibcxxOutcome.Refused,
                    $"{library.Path} also needs {string.Join(", ", otherMissing)}, which the system {Library} lacks; weakening {version} would not make it load.", need);
            return new GlibcxxDecision(GlibcxxOutcome.Patched, $"{library.Path}: marked the {version} need weak (only {onlySymbol}, never called, uses it).", need);
        }

        /// <summary>Decide, and patch the file in place (temp file + rename) when the decision says so.</summary>
        public static GlibcxxDecision Apply(string libraryPath, IReadOnlyCollection<string> systemVersions)
        {
            var library = ElfVersionNeeds.Read(libraryPath);
            var decision = Decide(library, systemVersions);
            if (decision.Outcome != GlibcxxOutcome.Patched || decision.Need == null) return decision;

            var info = new FileInfo(libraryPath);
            var temp = libraryPath + ".patching-" + Guid.NewGuid().ToString("N");
            try
            {
                File.WriteAllBytes(temp, library.WithWeakNeed(decision.Need));
                // Same timestamp as the original: MSBuild's incremental copy then sees an
                // unchanged file and does not overwrite the patched copy on the next build.
                File.SetLastWriteTimeUtc(temp, info.LastWriteTimeUtc);
                CopyUnixMode(libraryPath, temp);
                File.Replace(temp, libraryPath, null); // rename(2): atomic, and unlinks a hard link to the NuGet cache
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            return decision;
        }

        /// <summary>The version names the system libstdc++ defines, or null when it cannot be found.</summary>
        public static IReadOnlyCollection<string>? SystemVersions(out string? path)
        {
            path = FindSystemLibrary();
            return path == null ? null : ElfVersionNeeds.Read(path).Definitions;
        }

        /// <summary>The libstdc++.so.6 the dynamic loader would pick: LD_LIBRARY_PATH, then the standard folders.</summary>
        public static string? FindSystemLibrary()
        {
            var folders = new List<string>();
            var ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldPath)) folders.AddRange(ldPath.Split(':').Where(f => f.Length > 0));
            folders.AddRange(new[]
            {
                "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                "/lib64", "/usr/lib64", "/lib", "/usr/lib",
            });
            return folders.Select(f => System.IO.Path.Combine(f, Library)).FirstOrDefault(File.Exists);
        }

        private static void CopyUnixMode(string from, string to)
        {
            // In the engine only: MSBuild's inline task compiles without NET7_0_OR_GREATER, and there the
            // patched copy gets the default mode (0644), which loading a shared library does not need more than.
#if NET7_0_OR_GREATER
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(to, File.GetUnixFileMode(from));
#endif
        }
    }
}

#if !CHARRNN_ENGINE
namespace CharRnn.Build
{
    using CharRnn.Engine.Runtime;
    using Microsoft.Build.Framework;

    /// <summary>MSBuild task: applies <see cref="GlibcxxCompatibility"/> to each given libLibTorchSharp.so.</summary>
    public sealed class WeakenGlibcxxNeed : Microsoft.Build.Utilities.Task
    {
        [Required]
        public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

        public override bool Execute()
        {
            string? systemPath;
            var systemVersions = GlibcxxCompatibility.SystemVersions(out systemPath);
            foreach (var item in Files)
            {
                // No libstdc++ found here (an unusual layout): the library is judged as if every other version it needs
                // were there, since whether the never-called symbol is the version's only user does not depend on this machine.
                var versions = systemVersions ?? ElfVersionNeeds.Read(item.ItemSpec).Needs
                    .Where(n => n.Name != GlibcxxCompatibility.Version).Select(n => n.Name).ToList();
                var decision = GlibcxxCompatibility.Apply(item.ItemSpec, versions);
                if (decision.Outcome == GlibcxxOutcome.Refused)
                    Log.LogWarning($"CharRnn: {decision.Reason} (system: {systemPath}); the output will not load with this machine's {GlibcxxCompatibility.Library}."); // it may where it runs
                else
                    Log.LogMessage(decision.Outcome == GlibcxxOutcome.Patched ? MessageImportance.High : MessageImportance.Low,
                        $"CharRnn: {decision.Reason} (system: {systemPath})");
            }
            return !Log.HasLoggedErrors;
        }
    }
}
#endif
