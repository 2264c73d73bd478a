using CharRnn.ModelServer.Errors;

namespace CharRnn.ModelServer.Tests;

/// <summary>A status detail too big for a client's headers is cut to fit, whatever its characters.</summary>
public class ErrorDetailCapTests
{
    [Theory]
    [InlineData("x", 5000)] // one byte each, long
    [InlineData("語", 800)] // three bytes each: over the bytes in fewer characters than the cut's first guess
    [InlineData("😀", 700)] // four bytes, two UTF-16 chars each: never cut between them
    public void A_detail_over_the_limit_is_cut_to_fit_and_says_so(string unit, int count)
    {
        var detail = string.Concat(Enumerable.Repeat(unit, count));
        var capped = ErrorMappingInterceptor.Capped(detail);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(capped) <= ErrorMappingInterceptor.MaxDetailBytes, $"{System.Text.Encoding.UTF8.GetByteCount(capped)} bytes");
        Assert.Contains($"… (cut: the message had {detail.Length:N0} characters)", capped);
        Assert.False(capped.Contains('\uFFFD'));
        Assert.StartsWith(capped[..capped.IndexOf('…')], detail);
    }

    [Fact]
    public void A_detail_within_the_limit_is_left_as_it_is() =>
        Assert.Equal("short", ErrorMappingInterceptor.Capped("short"));
}
