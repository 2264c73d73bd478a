using CharRnn.ModelServer.Security;
using Microsoft.Extensions.Logging.Abstractions;

namespace CharRnn.ModelServer.Tests;

public class RefusalLogTests
{
    [Fact]
    public void A_scan_from_more_addresses_than_it_remembers_within_a_minute_does_not_grow_it_without_bound()
    {
        var log = new RefusalLog(TimeProvider.System, NullLogger<RefusalLog>.Instance);
        for (var i = 0; i < RefusalLog.MaxRemembered * 3; i++)
            log.Refused($"ipv4:10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}:5000", "/charrnn.v1.Catalog/ListModels", "no API key sent");
        Assert.InRange(log.Remembered, 1, RefusalLog.MaxRemembered + 1);
    }

    [Fact]
    public void The_refusals_one_line_covers_carry_its_request_id_and_the_next_minutes_line_another()
    {
        var clock = new SteppedClock();
        var lines = new ListLogger<RefusalLog>();
        var log = new RefusalLog(clock, lines);
        var first = log.Refused("ipv4:10.0.0.7:50001", "/charrnn.v1.Catalog/ListModels", "no API key sent");
        clock.Wall += TimeSpan.FromSeconds(30);
        var again = log.Refused("ipv4:10.0.0.7:50002", "/charrnn.v1.Generation/OpenSession", "no API key sent"); // another connection, the same address
        var other = log.Refused("ipv4:10.0.0.8:50001", "/charrnn.v1.Catalog/ListModels", "no API key sent");
        var otherReason = log.Refused("ipv4:10.0.0.7:50001", "/charrnn.v1.Catalog/ListModels", "unknown or removed API key");
        clock.Wall += TimeSpan.FromSeconds(31);
        var later = log.Refused("ipv4:10.0.0.7:50003", "/charrnn.v1.Catalog/ListModels", "no API key sent");

        Assert.Equal(first, again);
        Assert.Equal(5, new[] { first, other, otherReason, later }.Distinct().Count() + 1); // each line its own id
        const string covers = "; the refusals of this address for this reason within a minute carry this id, and are not logged)";
        Assert.Equal([
            $"Warning: Refused /charrnn.v1.Catalog/ListModels from ipv4:10.0.0.7:50001: no API key sent (request {first}{covers}",
            $"Debug: Refused /charrnn.v1.Generation/OpenSession from ipv4:10.0.0.7:50002: no API key sent (request {first})",
            $"Warning: Refused /charrnn.v1.Catalog/ListModels from ipv4:10.0.0.8:50001: no API key sent (request {other}{covers}",
            $"Warning: Refused /charrnn.v1.Catalog/ListModels from ipv4:10.0.0.7:50001: unknown or removed API key (request {otherReason}{covers}",
            $"Warning: Refused /charrnn.v1.Catalog/ListModels from ipv4:10.0.0.7:50003: no API key sent (request {later}{covers}",
        ], lines.Lines);
    }
}
