using System.Globalization;
using CharRnn.ModelServer.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CharRnn.ModelServer.Tests;

/// <summary>The operator log's line: its time says its zone, so lines from servers in different zones compare.</summary>
public class ServerLogFormatterTests
{
    [Fact]
    public void Each_line_starts_with_the_time_in_utc_marked_z()
    {
        var writer = new StringWriter();
        var before = DateTimeOffset.UtcNow;
        new ServerLogFormatter().Write(new LogEntry<string>(LogLevel.Warning, "CharRnn.Test", new EventId(7), "disk nearly full", null, (s, _) => s), null, writer);
        var line = writer.ToString().TrimEnd();

        var match = System.Text.RegularExpressions.Regex.Match(line, @"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) warn: CharRnn\.Test\[7\] disk nearly full$");
        Assert.True(match.Success, line);
        var time = DateTimeOffset.ParseExact(match.Groups[1].Value, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange(time, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
    }
}
