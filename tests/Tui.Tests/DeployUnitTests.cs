using System.Text.RegularExpressions;
using Xunit;

namespace CharRnn.Tui.Tests;

/// <summary>docs/deploy/charrnn.service as an operator follows it: the folders its ExecStart names must be made by its install steps.</summary>
public sealed class DeployUnitTests
{
    private static string RepositoryFile(string relative)
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder != null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "CharRnn.sln"))) return Path.Combine(folder.FullName, relative);
        throw new InvalidOperationException("CharRnn.sln not found above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void The_corpora_folder_the_unit_serves_is_made_by_the_install_steps_of_the_unit_and_of_deploy_md()
    {
        var unit = File.ReadAllText(RepositoryFile("docs/deploy/charrnn.service"));
        // serve refuses a --corpora folder that does not exist (exit 2): systemd would restart it every 5 s.
        var corpora = Regex.Match(unit[unit.IndexOf("\nExecStart=", StringComparison.Ordinal)..], @"--corpora (\S+)").Groups[1].Value;
        Assert.NotEqual("", corpora);
        bool Made(string text) => text.Split('\n').Any(line => line.Contains("install -d", StringComparison.Ordinal) &&
                                                                line.Split(' ').Contains(corpora) || line.Contains($"mkdir -p {corpora}", StringComparison.Ordinal));
        Assert.True(Made(unit), $"the unit's header comments should make {corpora}");
        Assert.True(Made(File.ReadAllText(RepositoryFile("docs/deploy.md"))), $"deploy.md's systemd steps should make {corpora}");
    }
}
