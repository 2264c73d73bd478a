using System.CommandLine;
using CharRnn.Engine.Runtime;
using CharRnn.ModelServer.Hosting;
using CharRnn.Tui;
using CharRnn.Tui.Cli;

// charrnn: with no verb, the interactive client (or --exec "commands" headless); verbs run the
// engine directly (train, generate, ...) or the server (serve).
// First: every verb writes to stdout, and with it closed its descriptor is a file of the runtime's (see Standard).
if (Standard.WhyOutputIsUnwritable() is { } unwritable)
{
    Console.Error.WriteLine($"charrnn: {unwritable}");
    return 1;
}
MallocSettings.ReexecuteIfNeeded(); // before anything else: see MallocSettings
Console.SetOut(new StdoutFaults(Console.Out)); // a write error names stdout
Standard.UseProcessOutput();
var server = new Option<string?>("--server") { Description = "Connect to this server (HOST:PORT or URL) instead of starting one in-process." };
var token = new Option<string?>("--token") { Description = "API key for the server (default: $CHARRNN_TOKEN)." };
var tlsCa = new Option<string?>("--tls-ca")
{
    Description = "With --server https://HOST:PORT: also trust the CA certificate(s) in this PEM file (a self-signed or private-CA server's), beside the system's roots.",
}.NotEmpty("a PEM file of the server's CA certificate(s)");
var exec = new Option<string?>("--exec") { Description = "Run REPL commands headless and print to stdout, e.g. --exec \"models; use lstm; gen 200 'for thos'\"." };
var models = CommonOptions.ModelsDir();
var corpora = CommonOptions.CorporaDir("Embedded server: folder of *.txt corpora.");
var device = CommonOptions.Device();
var threads = CommonOptions.Threads();
var precision = CommonOptions.GenerationPrecision();
var colors = new Option<string?>("--colors")
{
    Description = $"The full-screen client's colours: {CharRnn.Tui.Views.TerminalColors.Allowed}. Default: ${CharRnn.Tui.Views.TerminalColors.Variable}, else none where NO_COLOR is set, else 24-bit where COLORTERM is truecolor or 24bit (or WT_SESSION is set, or TERM ends in -direct), else 16.",
};

return CharRnnCommandLine.Run(args, root =>
{
    foreach (var option in new Option[] { server, token, tlsCa, exec, models, corpora, device, threads, precision, colors }) root.Options.Add(option);
    root.SetAction(parse =>
    {
        // They set up the server this process would start; with --server none starts, and they would be ignored unsaid.
        if (parse.GetValue(server) != null
            && new Option[] { models, corpora, device, threads, precision }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } unused)
            throw new ArgumentException($"{unused.Name} sets up the embedded server, and with --server none is started: the server there has its own; drop {unused.Name} or --server.");
        var serverUri = parse.GetValue(server) is { } address ? CharRnn.Tui.Client.CharRnnClient.ParseAddress(address) : null; // a malformed one is a bad argument (exit 2), --exec or not
        // Read here: a file that is no certificate, or a plain server it cannot apply to, is refused before anything starts.
        var trustedCas = parse.GetValue(tlsCa) is { } caFile ? CharRnn.Tui.Client.TrustedCas.Load(caFile, serverUri) : null;
        // The embedded server has no keys; a --token meant for a shared server whose --server was left out would be dropped unsaid.
        if (parse.GetValue(server) == null && parse.GetValue(token) != null)
            throw new ArgumentException("--token is a key for a shared server, and without --server HOST:PORT the embedded one (which needs none) is started; add --server or drop --token.");
        if (parse.GetValue(exec) != null && parse.GetValue(colors) != null)
            throw new ArgumentException("--colors sets how the full-screen client draws, and --exec prints plain text; drop --colors.");
        // Read before anything starts: a bad --colors or $CHARRNN_COLORS is refused at once (--exec draws nothing and reads neither).
        var depth = parse.GetValue(exec) == null ? CharRnn.Tui.Views.TerminalColors.Choose(parse.GetValue(colors), Environment.GetEnvironmentVariable, OperatingSystem.IsWindows()) : default;
        // Terminal.Gui on a pipe or file draws nowhere and waits for keys that never come.
        if (parse.GetValue(exec) == null && (Console.IsInputRedirected || Console.IsOutputRedirected))
            throw new ArgumentException($"the interactive client needs a terminal, and its {(Console.IsInputRedirected ? "input" : "output")} is not one; " +
                                        "run commands headless with --exec \"models; use NAME; gen 200\", or a subcommand (charrnn --help).");
        var options = new ClientOptions(
            parse.GetValue(server),
            // An empty one (CHARRNN_TOKEN= exported blank) is no key: the server then says it needs one, not that "" is unknown.
            new[] { parse.GetValue(token), Environment.GetEnvironmentVariable("CHARRNN_TOKEN") }.FirstOrDefault(t => !string.IsNullOrWhiteSpace(t)),
            new ServerOptions
            {
                ModelsDirectory = parse.GetValue(models)!,
                CorporaDirectory = parse.GetValue(corpora),
                Device = parse.GetValue(device)!,
                Threads = parse.GetValue(threads),
                GenerationPrecision = CharRnn.Engine.Models.GenerationPrecisions.Parse(parse.GetValue(precision)!, "--generation-precision"),
            },
            trustedCas);
        return parse.GetValue(exec) is { } commands ? TuiApp.Exec(options, commands) : TuiApp.Run(options, depth);
    });
});
