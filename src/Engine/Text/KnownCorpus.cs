namespace CharRnn.Engine.Text;

/// <summary>A corpus the tool knows by name and can download.</summary>
public sealed record KnownCorpus(string Name, string FileName, Uri Url, string Sha256, string Description)
{
    /// <summary>The lesson's file: Nietzsche, Beyond Good and Evil (Project Gutenberg, public domain).</summary>
    public static readonly KnownCorpus Nietzsche = new(
        "nietzsche", "nietzsche.txt",
        new Uri("https://s3.amazonaws.com/text-datasets/nietzsche.txt"),
        "23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647",
        "Nietzsche, Beyond Good and Evil (the fast.ai lesson's corpus)");

    public static IReadOnlyList<KnownCorpus> All { get; } = [Nietzsche];
}
