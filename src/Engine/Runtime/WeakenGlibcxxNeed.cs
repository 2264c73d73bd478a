// The MSBuild task of the GLIBCXX fix (rules and why: GlibcxxCompatibility.cs). Not part of the engine:
// Directory.Build.targets joins it with the other GLIBCXX files into the one source its inline task factory compiles.
#nullable enable
#if !CHARRNN_ENGINE
namespace CharRnn.Build
{
    using System;
    using System.Linq;
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
