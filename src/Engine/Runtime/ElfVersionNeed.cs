// Part of the GLIBCXX fix (rules and why: GlibcxxCompatibility.cs). Also compiled into the build task
// (Directory.Build.targets joins these files into one), so netstandard2.0-level APIs only, no dependencies.
#nullable enable
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
}
