using CharRnn.ModelServer.Services;
using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// The gRPC services this server hosts, in one list: <see cref="MapAll"/> maps them (ServerHost) and <see cref="Names"/>
/// gives health their full names, the ones a client asks about ("charrnn.v1.Generation", not the C# class), so a new
/// service is one line here. Names come from the generated descriptors, so a renamed service follows.
/// </summary>
public static class HostedServices
{
    private static readonly (string[] Names, Action<IEndpointRouteBuilder> Map)[] Services =
    [
        ([Api.Catalog.Descriptor.FullName], e => e.MapGrpcService<CatalogService>()),
        ([Api.Training.Descriptor.FullName], e => e.MapGrpcService<TrainingService>()),
        ([Api.Generation.Descriptor.FullName], e => e.MapGrpcService<GenerationService>()),
        ([Grpc.Health.V1.Health.Descriptor.FullName], e => e.MapGrpcHealthChecksService()),
        ([Grpc.Reflection.V1Alpha.ServerReflection.Descriptor.FullName, Grpc.Reflection.V1.ServerReflection.Descriptor.FullName],
            e => e.MapGrpcReflectionService()), // one call serves both versions
    ];

    /// <summary>Every hosted service's full name.</summary>
    public static IReadOnlyList<string> Names { get; } = Services.SelectMany(s => s.Names).ToList();

    public static void MapAll(IEndpointRouteBuilder endpoints)
    {
        foreach (var service in Services) service.Map(endpoints);
    }
}
