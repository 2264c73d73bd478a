using Api = CharRnn.Protos.V1;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// The gRPC services this server hosts (ServerHost maps them), by the full names a client asks health about:
/// "charrnn.v1.Generation", not the C# class. Taken from the generated descriptors, so a renamed service follows.
/// </summary>
public static class HostedServiceNames
{
    public static readonly IReadOnlyList<string> All =
    [
        Api.Catalog.Descriptor.FullName,
        Api.Training.Descriptor.FullName,
        Api.Generation.Descriptor.FullName,
        Grpc.Health.V1.Health.Descriptor.FullName,
        Grpc.Reflection.V1Alpha.ServerReflection.Descriptor.FullName, // MapGrpcReflectionService serves both versions
        Grpc.Reflection.V1.ServerReflection.Descriptor.FullName,
    ];
}
