// Makes TorchSharp's native library load on systems whose libstdc++ predates GLIBCXX_3.4.32.
//
// Why this exists: TorchSharp 0.107.0's libLibTorchSharp.so was linked by GCC 13, which adds a
// reference to std::ios_base_library_init (GLIBCXX_3.4.32) only to pull in the newer libstdc++'s
// iostream initialisation. Nothing calls it. Older libstdc++ (Debian 12: GLIBCXX_3.4.30) then
// refuses to load the library. Marking that one version need weak (VER_FLG_WEAK) lets the
// dynamic loader accept it. GlibcxxCompatibility.Decide holds the rules for when that is safe.
//
// The pieces: ElfVersionNeeds (the ELF file's version tables; .Sections reads the raw file),
// ElfVersionNeed (one needed version), GlibcxxDecision (what to do and why), this file (the rules),
// GlibcxxCompatibility.Patch (the atomic in-place patch), .SystemLibrary (the libstdc++ the
// loader would pick) and WeakenGlibcxxNeed (the MSBuild task).
//
// These files are compiled twice: into CharRnn.Engine (runtime diagnosis, tests) and by MSBuild's
// RoslynCodeTaskFactory as the build task in Directory.Build.targets. That factory takes exactly
// one source file, so the build joins them into one first: each keeps its using directives inside
// its namespace (so the join still compiles), targets netstandard2.0-level APIs only and has no
// dependencies.
#nullable enable
namespace CharRnn.Engine.Runtime
{
    using System.Collections.Generic;
    using System.Linq;

    public static partial class GlibcxxCompatibility
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
    }
}
