// Part of the GLIBCXX fix (rules and why: GlibcxxCompatibility.cs). Also compiled into the build task
// (Directory.Build.targets joins these files into one), so netstandard2.0-level APIs only, no dependencies.
#nullable enable
namespace CharRnn.Engine.Runtime
{
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
}
