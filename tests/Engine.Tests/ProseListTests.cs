using CharRnn.Engine.Text;
using Xunit;

namespace CharRnn.Engine.Tests;

public class ProseListTests
{
    [Theory]
    [InlineData(new string[0], "")]
    [InlineData(new[] { "--bs" }, "--bs")]
    [InlineData(new[] { "--bs", "--bptt" }, "--bs or --bptt")]
    [InlineData(new[] { "--bs", "--bptt", "--n-hidden" }, "--bs, --bptt or --n-hidden")]
    public void A_list_reads_as_a_sentence_names_it(string[] items, string expected) =>
        Assert.Equal(expected, ProseList.Of(items, "or"));
}
