using System.Threading.Channels;
using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.DeviceLoop;

namespace CharRnn.ModelServer.Tests;

/// <summary>Generate's coalesce, on the handler's side: what waits behind a message goes with it.</summary>
public class CoalesceTests
{
    private static GenerationOutput Output(string text, long seen, GenerationFinish finish = GenerationFinish.None) =>
        new(text, text.Length, new GeneratedChar(text[^1..], 0, [], null), seen, finish);

    [Fact]
    public void A_message_takes_every_output_waiting_behind_it_with_the_newest_count_and_finish()
    {
        var channel = Channel.CreateUnbounded<GenerationOutput>();
        foreach (var o in new[] { Output("b", 2), Output("cd", 4), Output("e", 5, GenerationFinish.Length) }) channel.Writer.TryWrite(o);
        var joined = GenerationRequest.JoinReady(Output("a", 1), channel.Reader);
        Assert.Equal("abcde", joined.Text);
        Assert.Equal(5, joined.Chars);
        Assert.Equal(5, joined.CharactersSeen);
        Assert.Equal("e", joined.Last.Text);
        Assert.Equal(GenerationFinish.Length, joined.Finish);
        Assert.Equal(0, channel.Reader.Count);
    }

    [Fact]
    public void A_reader_that_keeps_up_sends_each_output_as_it_is()
    {
        var channel = Channel.CreateUnbounded<GenerationOutput>();
        var first = Output("a", 1);
        Assert.Equal(first, GenerationRequest.JoinReady(first, channel.Reader));
    }

    [Fact]
    public void A_message_stops_short_of_the_most_chars_one_may_hold_and_leaves_the_rest_waiting()
    {
        var channel = Channel.CreateUnbounded<GenerationOutput>();
        var block = new string('x', 100);
        for (var i = 0; i < 3; i++) channel.Writer.TryWrite(Output(block, 200 + 100 * i));
        var joined = GenerationRequest.JoinReady(Output(block, 100), channel.Reader);
        Assert.Equal(200, joined.Chars); // a third block would make 300, over 256
        Assert.Equal(200, joined.CharactersSeen);
        Assert.Equal(2, channel.Reader.Count);
        var next = GenerationRequest.JoinReady(channel.Reader.TryRead(out var o) ? o : default, channel.Reader);
        Assert.Equal(200, next.Chars);
        Assert.Equal(400, next.CharactersSeen);
    }
}
