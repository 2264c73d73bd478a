using CharRnn.Engine.Text;
using CharRnn.ModelServer.Hosting;

namespace CharRnn.ModelServer.Errors;

/// <summary>
/// grpc.health.v1's Check of a service this server does not host: NOT_FOUND, as the health protocol says, but with a
/// message naming the names it answers for (the library's own refusal has an empty message).
/// </summary>
public static class UnknownHealthService
{
    public static ServerException Refusal(string service) =>
        ServerException.NotFound($"This server hosts no service '{Echo.Of(service)}'; health answers for \"\" (the whole server) and for each " +
                                 $"service it hosts, by its full name: {string.Join(", ", HostedServices.Names)}.");
}
