using CharRnn.ModelServer.Hosting;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace CharRnn.ModelServer.Security;

/// <summary>
/// Checks `authorization: Bearer KEY` on every call (health checks and reflection excepted) and
/// records the caller for the services. With no keys configured the server only listens on
/// loopback (ServerHost enforces it) and every caller is the local admin.
/// </summary>
public sealed class AuthInterceptor(IOptions<ServerOptions> options) : Interceptor
{
    private readonly string? _path = options.Value.KeysFile;
    private ApiKeyStore? _keys = options.Value.KeysFile is { } path ? ApiKeyStore.Load(path) : null;
    private DateTime _loaded = options.Value.KeysFile is { } p && File.Exists(p) ? File.GetLastWriteTimeUtc(p) : default;

    public bool Enabled => _keys is { Keys.Count: > 0 };

    /// <summary>Keys added or removed with `charrnn keys` take effect without a restart.</summary>
    private ApiKeyStore Keys()
    {
        if (_path != null && File.Exists(_path) && File.GetLastWriteTimeUtc(_path) != _loaded)
        {
            _loaded = File.GetLastWriteTimeUtc(_path);
            _keys = ApiKeyStore.Load(_path);
        }
        return _keys!;
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
        if (!Enabled || context.Method.StartsWith("/grpc.health.", StringComparison.Ordinal) || context.Method.StartsWith("/grpc.reflection.", StringComparison.Ordinal))
        {
            (Enabled ? new Caller("anonymous", Admin: false) : Caller.Local).AttachTo(context);
            return;
        }
        var header = context.RequestHeaders.GetValue("authorization");
        if (string.IsNullOrWhiteSpace(header))
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                "This server needs an API key: send the metadata 'authorization: Bearer <key>' (charrnn --token KEY, or CHARRNN_TOKEN). Ask its admin for a key (charrnn keys add NAME)."));
        var key = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : header.Trim();
        var entry = Keys().Find(key)
            ?? throw new RpcException(new Status(StatusCode.Unauthenticated, "The API key is not valid on this server (unknown or removed)."));
        new Caller(entry.Name, entry.Admin).AttachTo(context);
    }
}
