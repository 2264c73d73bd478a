// Part of the GLIBCXX fix (rules and why: GlibcxxCompatibility.cs). Also compiled into the build task
// (Directory.Build.targets joins these files into one), so netstandard2.0-level APIs only, no dependencies.
#nullable enable
namespace CharRnn.Engine.Runtime
{
    using System;
    using System.Collections.Generic;
    using System.IO;
    using System.Linq;

    public static partial class GlibcxxCompatibility
    {
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
    }
}
