namespace CharRnn.ModelServer.Tests;

/// <summary>
/// A test of examples/node, skipped (and saying why) where it cannot run: without node on PATH, or without the
/// example's packages, which `make test` installs with npm ci when node and npm are there and the registry answers.
/// xunit 2 decides a skip when it finds the test, so the check is made then.
/// </summary>
public sealed class NodeExampleFactAttribute : FactAttribute
{
    public NodeExampleFactAttribute()
    {
        if (Missing() is { } missing) Skip = $"{missing}: the Node example is not run (make test installs its packages with npm ci where node and npm are)";
    }

    public static string ExampleFolder => Path.Combine(RealProcessTests.RepositoryRoot(), "examples", "node");

    private static string? Missing()
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (!path.Any(d => File.Exists(Path.Combine(d, "node")))) return "no node on PATH";
        foreach (var package in new[] { "@grpc/grpc-js", "@grpc/proto-loader" })
            if (!File.Exists(Path.Combine(ExampleFolder, "node_modules", package, "package.json"))) return $"examples/node/node_modules has no {package}";
        return null;
    }
}
