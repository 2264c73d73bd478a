// Part of the GLIBCXX fix (rules and why: GlibcxxCompatibility.cs). Also compiled into the build task
// (Directory.Build.targets joins these files into one), so netstandard2.0-level APIs only, no dependencies.
#nullable enable
namespace CharRnn.Engine.Runtime
{
    using System;
    using System.Collections.Generic;
    using System.IO;

    public static partial class GlibcxxCompatibility
    {
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
