using CharRnn.ModelServer.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Checks `authorization: Bearer KEY` on every call (health checks and reflection excepted) and
/// records the caller for the services. A server given a keys file always asks for a key, even
/// when the file holds none (then every call is refused until `charrnn keys add`); without one
/// it only listens on loopback (SecurityCheck enforces it) and every caller is the local admin, or,
/// with <see cref="ServerOptions.LocalToken"/> (the embedded server), every caller that sends it.
/// </summary>
public sealed class AuthInterceptor(IOptions<ServerOptions> options, RefusalLog refusals, ILogger<AuthInterceptor> logger) : Interceptor
{
    private readonly string? _path = options.Value.KeysFile;
    // The file as the log names it: in full, since a relative --keys is read from the server's working folder, which its
    // log does not say (a unit's WorkingDirectory, the shell's folder at start).
    private readonly string? _shown = options.Value.KeysFile is { } file ? Path.GetFullPath(file) : null;
    private readonly byte[]? _localToken = options.Value.LocalToken is { } token ? System.Text.Encoding.UTF8.GetBytes(token) : null;
    private readonly Lock _reload = new();
    private (DateTime Written, long Length) _loadedVersion;
    private ApiKeyStore? _keys;
    private string? _invalid;

    public bool Enabled => _path != null;

    /// <summary>
    /// The keys as the file holds them now, so that keys added or removed with `charrnn keys` take
    /// effect without a restart; with why the file could not be read, when it could not (then no key
    /// is valid: fail closed).
    /// </summary>
    public (ApiKeyStore Keys, string? Problem) Current()
    {
        lock (_reload)
        {
            var file = new FileInfo(_path!);
            var version = file.Exists ? (file.LastWriteTimeUtc, file.Length) : default;
            if (_keys == null || version != _loadedVersion)
            {
                var first = _keys == null; // at start-up SecurityCheck says what the file holds
                _loadedVersion = version;
                try
                {
                    (_keys, _invalid) = (ApiKeyStore.Load(_path!), null);
                    LogLoaded(first, file.Exists, _keys);
                }
                catch (InvalidDataException e)
                {
                    (_keys, _invalid) = (ApiKeyStore.Empty(_path!), e.Message); // this version of the file is bad: read again once it changes
                    LogOnce(e.Message);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // The read failed, not the file (permissions since fixed, too many open files): the next call reads
                    // it again, rather than refusing every call until someone happens to edit it.
                    (_keys, _invalid) = (ApiKeyStore.Empty(_path!), e.Message);
                    _loadedVersion = default;
                    LogOnce(e.Message);
                }
            }
            return (_keys, _invalid);
        }
    }

    // What the log last said of the file: "loaded", "missing", or its problem. Each change of it is logged once
    // (a file that stays unreadable is retried on every call), so an operator sees when the keys went, and came back.
    private string? _state;

    private void LogOnce(string problem)
    {
        if (problem == _state) return;
        _state = problem;
        logger.LogError("Every call is refused until the keys file is fixed: {Problem}", problem);
    }

    // The keys of the last file that could be read: a reload says what changed since, even across a spell of it missing or broken.
    private IReadOnlyList<ApiKeyEntry> _lastRead = [];

    private void LogLoaded(bool first, bool exists, ApiKeyStore store)
    {
        var state = exists ? "loaded" : "missing";
        if (!first && !exists && _state != state)
            logger.LogWarning("The keys file {File} is missing: every call is refused until it is back (an editor saving by rename leaves it missing for a moment)", _shown);
        else if (!first && exists)
            logger.LogInformation((_state is "loaded" or null ? "Keys file {File} reloaded: {Count} API key(s)" : "Keys file {File} is valid again: {Count} API key(s)") + "{Changes}",
                _shown, store.Keys.Count, Changes(_lastRead, store.Keys));
        if (store.CaseClash is { } clash) logger.LogWarning("{Clash}", clash); // at start-up too: a hand edit is read then as well
        if (exists) _lastRead = store.Keys;
        _state = state;
    }

    /// <summary>"; added carol; removed bob; new key for alice", or "" when the same keys are in use.</summary>
    private static string Changes(IReadOnlyList<ApiKeyEntry> before, IReadOnlyList<ApiKeyEntry> now)
    {
        static string Names(IEnumerable<ApiKeyEntry> keys) => string.Join(", ", keys.Select(k => k.Name));
        var added = now.Where(k => before.All(b => b.Name != k.Name)).ToList();
        var removed = before.Where(b => now.All(k => k.Name != b.Name)).ToList();
        var rotated = now.Where(k => before.Any(b => b.Name == k.Name && b.Sha256 != k.Sha256)).ToList(); // removed and added again: the old key no longer works
        return (added.Count > 0 ? $"; added {Names(added)}" : "") + (removed.Count > 0 ? $"; removed {Names(removed)}" : "")
             + (rotated.Count > 0 ? $"; new key for {Names(rotated)}" : "");
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, context);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context,
        ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(request, responseStream, context);
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream,
        ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, responseStream, context);
    }

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context,
        ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Authenticate(context);
        return continuation(requestStream, context);
    }

    private void Authenticate(ServerCallContext context)
    {
        if (!Enabled && _localToken == null)
        {
            Caller.Local.AttachTo(context);
            return;
        }
        if (context.Method.StartsWith("/grpc.health.", StringComparison.Ordinal) || context.Method.StartsWith("/grpc.reflection.", StringComparison.Ordinal))
        {
            new Caller(Caller.Anonymous, Admin: false).AttachTo(context);
            return;
        }
        if (!Enabled)
        {
            // Another local user on a shared machine can reach the loopback port too; only this process's client knows the token.
            var sent = BearerKey(context.RequestHeaders.GetValue("authorization") ?? "");
            if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(sent), _localToken))
                throw Refuse(context, StatusCode.Unauthenticated, Errors.ErrorReasons.NotLocalClient, "not the embedded server's own key",
                    "This server belongs to another charrnn process (its embedded server) and accepts only that process's own client. Start charrnn yourself, or reach a shared server with --server HOST:PORT --token KEY.");
            Caller.Local.AttachTo(context);
            return;
        }
        var (keys, problem) = Current();
        if (problem != null)
            // What is wrong (and where the file is) goes to the server's log, not to whoever calls.
            throw Refuse(context, StatusCode.Unavailable, Errors.ErrorReasons.KeysFileInvalid, "the keys file is not valid or cannot be read",
                "This server cannot check API keys: its keys file is not valid or cannot be read. Ask its admin to fix it (the server's log says what is wrong).");
        if (keys.FileMissing)
            // Not "no keys": the admin's fix is to put the file back (an editor's save by rename ends by itself), and a
            // keys add on a missing file would start a new one without the other keys. Clients may retry.
            throw Refuse(context, StatusCode.Unavailable, Errors.ErrorReasons.KeysFileInvalid, "the keys file is missing",
                "This server cannot check API keys: its keys file is missing. Ask its admin to put it back (the server's log says so); retry later.");
        var header = context.RequestHeaders.GetValue("authorization");
        if (!keys.HasKeys)
            // A caller with a key had it removed (or never had one that worked): say so, not only that keys are missing.
            throw Refuse(context, StatusCode.Unauthenticated, Errors.ErrorReasons.NoKeys, "the keys file holds no API keys", (string.IsNullOrWhiteSpace(header)
                ? "This server has no API keys"
                : "The API key is not valid on this server (unknown or removed): it has no API keys now") +
                ", so it accepts no calls. Ask its admin to add one (charrnn keys add NAME --keys FILE).");
        if (string.IsNullOrWhiteSpace(header))
            throw Refuse(context, StatusCode.Unauthenticated, Errors.ErrorReasons.NoKey, "no API key sent",
                "This server needs an API key: send the metadata 'authorization: Bearer <key>' (charrnn --token KEY, or CHARRNN_TOKEN). Ask its admin for a key (charrnn keys add NAME).");
        if (OtherScheme(header) is { } scheme)
            throw Refuse(context, StatusCode.Unauthenticated, Errors.ErrorReasons.UnsupportedScheme, "an authorization scheme other than Bearer",
                $"The authorization scheme '{scheme}' is not supported; send 'authorization: Bearer <key>'.");
        var key = BearerKey(header);
        var entry = keys.Find(key)
            ?? throw Refuse(context, StatusCode.Unauthenticated, Errors.ErrorReasons.UnknownKey, "unknown or removed API key", "The API key is not valid on this server (unknown or removed).");
        new Caller(entry.Name, entry.Admin, entry.Sha256).AttachTo(context);
    }

    /// <summary>
    /// The scheme of "Basic KEY" and the like (keys hold no spaces; a bare key is taken as it is), else null:
    /// such a key is no key of this server's, but "unknown or removed" sent its client looking for a wrong key.
    /// </summary>
    private static string? OtherScheme(string header)
    {
        var space = header.Trim().IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || header.TrimStart().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return null;
        var scheme = header.Trim()[..space];
        return scheme.Length <= 32 ? scheme : scheme[..32] + "…"; // quoted back: a long one need not all be
    }

    private static string BearerKey(string header) => header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : header.Trim();

    /// <summary>
    /// A refused call: counted and logged here, for ErrorMappingInterceptor, which counts the other failed
    /// calls, runs after this one and never sees it; so it carries its details from here too, and its request id:
    /// the one the log's line for it names (<see cref="RefusalLog"/>).
    /// </summary>
    /// <param name="errorReason">The machine code for clients (<see cref="Errors.ErrorReasons"/>); <paramref name="reason"/> is the log's words.</param>
    private RpcException Refuse(ServerCallContext context, StatusCode code, string errorReason, string reason, string detail)
    {
        Metrics.ServerMetrics.CountError(code, Metrics.ServerMetrics.AuthReason, keyName: null); // no key was accepted: none to name
        var requestId = refusals.Refused(context.Peer, context.Method, reason);
        var refusal = Errors.ErrorDetails.Refusal(code, detail, errorReason);
        refusal.Trailers.Add(Errors.ErrorMappingInterceptor.RequestIdTrailer, requestId);
        return refusal;
    }
}
