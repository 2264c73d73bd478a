using System.Text.Json;

namespace CharRnn.Tui.Tests;

/// <summary>charrnn's verbs on model folders an older build wrote (the engine tests' Fixtures/OlderBuild, see its README).</summary>
public partial class CommandLineTests
{
    private static readonly string OlderBuildModels = Path.Combine(AppContext.BaseDirectory, "Fixtures", "OlderBuild");

    [Fact]
    public void Models_written_by_an_older_build_are_listed_described_and_generate() => InTempFolder(root =>
    {
        foreach (var model in new[] { "old-lstm2", "old-gru", "old-char3" }) // copies: the fixtures are never written
        {
            Directory.CreateDirectory(Path.Combine(root, model));
            File.Copy(Path.Combine(OlderBuildModels, model, "last.ckpt"), Path.Combine(root, model, "last.ckpt"));
        }
        using var list = JsonDocument.Parse(Printed(["models", "--models", root, "--json"]));
        Assert.Equal([("old-char3", "char3"), ("old-gru", "stateful-gru"), ("old-lstm2", "stateful-lstm")],
            list.RootElement.EnumerateArray().Select(m => (m.GetProperty("name").GetString(), m.GetProperty("architecture").GetString())));
        Assert.All(list.RootElement.EnumerateArray(), m => Assert.Equal(JsonValueKind.Null, m.GetProperty("error").ValueKind));

        using var one = JsonDocument.Parse(Printed(["models", "old-lstm2", "--models", root, "--json"]));
        Assert.Equal(2, one.RootElement.GetProperty("model").GetProperty("hyperparameters").GetProperty("layers").GetDouble());
        Assert.Equal(393, one.RootElement.GetProperty("corpus_characters").GetInt64());
        Assert.Equal(JsonValueKind.Null, one.RootElement.GetProperty("corpus_code_points").ValueKind); // not stored then

        // As the engine's OlderBuildCheckpointTests pins it for this seed and prime.
        Assert.Equal("the hntgfoshareifge,lrls  g,c gm tihefahgnrl",
            Printed(["generate", "old-gru", "--models", root, "-n", "40", "--prime", "the ", "--seed", "1", "--threads", "1"]).TrimEnd('\n'));
    });
}
