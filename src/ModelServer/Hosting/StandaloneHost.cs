using System.Text.RegularExpressions;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// Runs the standalone server (Program.cs) and turns a failure into one line on stderr and an exit code,
/// as `charrnn serve` does: 2 for a configuration it refuses (a setting out of range or not a number, a
/// listen address without keys, a models folder another process holds), 1 for a failure while it runs.
/// Unhandled, each was a stack trace and SIGABRT (exit 134), which a service manager reads as a crash.
/// </summary>
public static partial class StandaloneHost
{
    /// <summary>How the lines on stderr start: the executable's name.</summary>
    public const string Name = "CharRnn.ModelServer";

    public static int Run(string[] args, TextWriter error)
    {
        WebApplication app;
        try
        {
            app = ServerHost.Build(args);
        }
        catch (Exception e) when (e is not HostAbortedException) // WebApplicationFactory stops Program with it, once it has the host
        {
            return Report(e, error, starting: true);
        }
        using (app)
        {
            try
            {
                StartChecks.Run(app); // before the host makes anything: a refused start leaves no models folder
                app.StartAsync().GetAwaiter().GetResult();
            }
            catch (Exception e)
            {
                // What did start (the device thread) stops before the error is reported.
                try { app.StopAsync().GetAwaiter().GetResult(); }
                catch (Exception) { }
                return Report(e, error, starting: true);
            }
            try
            {
                app.WaitForShutdownAsync().GetAwaiter().GetResult();
                return 0;
            }
            catch (Exception e)
            {
                return Report(e, error, starting: false);
            }
        }
    }

    private static int Report(Exception e, TextWriter error, bool starting)
    {
        var configuration = starting && IsConfigurationError(e);
        var message = OneLine(e.Message);
        if (!configuration)
            message = Environment.GetEnvironmentVariable("CHARRNN_DEBUG") == "1" ? e.ToString() : $"{message} ({e.GetType().Name}; set CHARRNN_DEBUG=1 for the stack trace)";
        else if (UnconvertedSetting().Match(message) is { Success: true } setting)
            message += $" {setting.Groups["key"].Value} takes {Kind(setting.Groups["type"].Value)} (the environment's {setting.Groups["key"].Value.Replace(":", "__").ToUpperInvariant()}).";
        else if (e is IOException && e.Message.StartsWith("Failed to bind", StringComparison.Ordinal))
            message += " Another process may hold the port: stop it, or choose another CharRnn:Listen (or CharRnn:MetricsListen).";
        else if (IsAddressNotOwn(e))
            message += " CharRnn:Listen or CharRnn:MetricsListen names an address this machine does not have; give one of its own, 0.0.0.0 for all of them, or 127.0.0.1 for this machine only.";
        error.WriteLine($"{Name}: {message}");
        return configuration ? 2 : 1;
    }

    /// <summary>
    /// The settings' fault, not a bug: the checks' ArgumentExceptions, a value configuration binding could not
    /// convert (CHARRNN__THREADS=abc), a port in use, an address this machine does not have, or a models folder that
    /// cannot be made or written.
    /// </summary>
    public static bool IsConfigurationError(Exception e) =>
        e is ArgumentException or InvalidDataException or IOException or UnauthorizedAccessException
            or Microsoft.Extensions.Options.OptionsValidationException
        || IsAddressNotOwn(e)
        || (e is InvalidOperationException && e.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal));

    /// <summary>Kestrel's bind to a host address no interface of this machine has ("Cannot assign requested address").</summary>
    private static bool IsAddressNotOwn(Exception e) =>
        e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressNotAvailable };

    // Configuration binding names the setting and .NET's type ("… at 'CharRnn:Threads' to type 'System.Int32'."): say it in an operator's words.
    [GeneratedRegex(@"^Failed to convert configuration value '.*' at '(?<key>[^']+)' to type '(?<type>[^']+)'")]
    private static partial Regex UnconvertedSetting();

    private static string Kind(string type) => type switch
    {
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Double" => "a number such as 0.5",
        "System.Boolean" => "true or false",
        _ => $"a value of type {type}",
    };

    // ArgumentOutOfRangeException adds "Actual value was 5." on a line of its own.
    private static string OneLine(string message) =>
        string.Join(' ', message.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
