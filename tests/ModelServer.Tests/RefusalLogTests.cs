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
}
