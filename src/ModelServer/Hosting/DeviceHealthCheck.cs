using CharRnn.ModelServer.DeviceLoop;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CharRnn.ModelServer.Hosting;

/// <summary>gRPC health follows the device loop: SERVING while it runs, NOT_SERVING otherwise.</summary>
public sealed class DeviceHealthCheck(DeviceWorker worker) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(worker.IsAlive
            ? HealthCheckResult.Healthy($"device loop on {worker.Description}, last tick {worker.LastTick:O}")
            : HealthCheckResult.Unhealthy("the device loop is not running"));
}
