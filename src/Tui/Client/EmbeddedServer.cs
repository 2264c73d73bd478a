using CharRnn.Engine.Storage;
using CharRnn.ModelServer.Hosting;
using CharRnn.ModelServer.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace CharRnn.Tui.Client;

/// <summary>
/// The model server started inside the charrnn process on a free loopback port, so the TUI uses
/// exactly the gRPC path a remote server would. Its log goes to a file, never to the terminal.
/// </summary>
public sealed class EmbeddedServer : IAsyncDisposable
{
    /// <summary>The log's name in the models folder.</summary>
    private const string LogName = "server.log";

    private readonly WebApplication _app;

    private EmbeddedServer(WebApplication app, Uri address, string logPath, string? token)
    {
        _app = app;
        Address = address;
        LogPath = logPath;
        Token = token;
    }

    public Uri Address { get; }
    /// <summary>
    /// The key this process's client sends. Without a keys file, a random one made at start and kept in memory
    /// only: other local users can reach the loopback port, and without it would each be the local admin. Null
    /// with a keys file, whose keys its client sends: only tests start it so (charrnn refuses --token without --server).
    /// </summary>
    public string? Token { get; }
    public string LogPath { get; }

    public static async Task<EmbeddedServer> StartAsync(ServerOptions options)
    {
        options.Listen = "127.0.0.1:0";
        if (File.Exists(options.ModelsDirectory))
            throw new ArgumentException($"--models '{options.ModelsDirectory}' is a file; give a folder (it is made if missing).");
        var logPath = Path.Combine(Path.GetFullPath(options.ModelsDirectory), LogName);
        var folder = Path.GetDirectoryName(logPath)!; // the full path, without a trailing '/' the user gave
        var made = FoldersMissing(folder); // made by this start, the folder and any parents: a refused one removes them again
        // The folder is the user's argument: one that cannot be made or written is a bad --models (exit 2),
        // said in its terms, not as .NET's "Could not find file" about a path the user never gave.
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !DiskFault.Is(e)) // a full disk is a failed run (exit 1)
        {
            throw new ArgumentException($"--models '{options.ModelsDirectory}' cannot be created: {e.Message}", e);
        }
        StreamWriter log;
        try { log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true }; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !DiskFault.Is(e))
        {
            throw new ArgumentException($"--models '{options.ModelsDirectory}' cannot be written: {e.Message}", e);
        }
        options.LocalToken = options.KeysFile == null ? Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)) : null;
        WebApplication? app = null;
        try
        {
            app = ServerHost.Build([], options, logging => logging.AddProvider(new FileLoggerProvider(log)), embedded: true);
            var address = await ServerHost.StartAsync(app).ConfigureAwait(false);
            return new EmbeddedServer(app, address, logPath, options.LocalToken);
        }
        catch
        {
            await LetGo(app, log).ConfigureAwait(false);
            RemoveMade(made);
            throw;
        }
    }

    /// <summary>
    /// As charrnn serve's refused start leaves no folder it made (ServerDatabase, which here finds the folder made, for the
    /// log): the next start then says it made it, so a typo in --models shows. <paramref name="made"/> is the models folder
    /// and the parents this start made, nearest first; each goes only while it holds nothing but what the start put there,
    /// and a folder that was there is never touched.
    /// </summary>
    private static void RemoveMade(List<string> made)
    {
        if (made.Count > 0) new MadeModelsFolder(made[0], null, LogName).RemoveIfUnused();
        foreach (var parent in made.Skip(1))
        {
            if (!Directory.Exists(parent) || Directory.EnumerateFileSystemEntries(parent).Any()) break;
            try { Directory.Delete(parent); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { break; } // left as it is: the refusal is what matters
        }
    }

    /// <summary><paramref name="folder"/> and those of its parents that do not exist yet, the folder first.</summary>
    private static List<string> FoldersMissing(string folder)
    {
        var missing = new List<string>();
        for (var f = folder; f != null && !Directory.Exists(f); f = Path.GetDirectoryName(f)) missing.Add(f);
        return missing;
    }

    /// <summary>
    /// A refused start lets go of its host (<see cref="ServerHost.LetGoRefused"/>) and of the log, before the refusal is
    /// reported. The log's dispose may fail too (its last flush on a full disk): that must not replace why the start was refused.
    /// </summary>
    private static async Task LetGo(WebApplication? app, StreamWriter log)
    {
        if (app != null) await ServerHost.LetGoRefused(app).ConfigureAwait(false);
        try { await log.DisposeAsync().ConfigureAwait(false); }
        catch (Exception) { }
    }

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return; // a second dispose (await using after an explicit one) has nothing to stop
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A minimal logger provider writing single lines to a file.</summary>
    private sealed class FileLoggerProvider(StreamWriter writer) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new FileLogger(writer, categoryName);
        public void Dispose() => writer.Dispose();

        private sealed class FileLogger(StreamWriter writer, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!IsEnabled(logLevel)) return;
                // Logging must never fail what it reports on: a full disk drops the line, not the device loop (whose
                // safety net logs from its catch) or the process.
                try { lock (writer) writer.WriteLine($"{DateTime.Now:HH:mm:ss} {logLevel,-11} {category}: {formatter(state, exception)}{(exception == null ? "" : " " + exception)}"); }
                catch (IOException) { }
                catch (ObjectDisposedException) { } // a line logged as the server is disposed
            }
        }
    }
}
