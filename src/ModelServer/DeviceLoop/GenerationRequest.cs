using System.Text;
using System.Threading.Channels;
using CharRnn.Engine.Sampling;
using CharRnn.ModelServer.Sessions;

namespace CharRnn.ModelServer.DeviceLoop;

public enum GenerationFinish { None, Length, Stop }

/// <summary>
/// One message's worth of generated text on its way to a client: its chars, the last of them
/// (the only one where a call asks for probabilities or alternatives) and the session's count after it.
/// </summary>
public readonly record struct GenerationOutput(string Text, int Chars, GeneratedChar Last, long CharactersSeen, GenerationFinish Finish);

/// <summary>
/// A Generate call in progress: the device loop advances its session one char per tick and
/// writes each char to <see cref="Output"/>; the call's handler is the single reader and the
/// single writer of its gRPC stream. A full output (slow client) skips the session for a tick
/// instead of blocking the loop. With several chars per message the chars gather here, so the
/// channel, the handler and gRPC each see one item per message, not per char.
/// </summary>
public sealed class GenerationRequest
{
    public const int Capacity = 256;
    public const int MaxCharsPerMessage = 256;
    private readonly string _stop;
    private readonly int _charsPerMessage;
    private readonly StringBuilder _pending = new();
    private int _pendingChars; // symbols in _pending (a symbol's text may be longer than one UTF-16 char)
    private GeneratedChar? _pendingLast;
    private long _pendingSeen;
    private string _tail = "";

    public GenerationRequest(ServerSession session, int maxChars, string stop, int alternatives, CancellationToken cancellation, int charsPerMessage = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(charsPerMessage, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(charsPerMessage, MaxCharsPerMessage);
        Session = session;
        Remaining = maxChars;
        _stop = stop;
        Alternatives = alternatives;
        Cancellation = cancellation;
        _charsPerMessage = charsPerMessage;
        Output = Channel.CreateBounded<GenerationOutput>(new BoundedChannelOptions(Capacity)
        {
            SingleReader = true,
            SingleWriter = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public ServerSession Session { get; }
    public int Remaining { get; private set; }
    public int Delivered { get; private set; }
    public int Alternatives { get; }
    public CancellationToken Cancellation { get; }
    public Channel<GenerationOutput> Output { get; }

    /// <summary>Room for another char (the client keeps up).</summary>
    public bool CanAccept => Output.Reader.Count < Capacity;

    /// <summary>Hands one char to the client; true when the request is complete (length or stop string).</summary>
    public bool Deliver(GeneratedChar c, long charactersSeen)
    {
        Remaining--;
        Delivered++;
        var finish = GenerationFinish.None;
        if (_stop.Length > 0)
        {
            _tail += c.Text;
            if (_tail.Length > _stop.Length * 2) _tail = _tail[^_stop.Length..];
            if (_tail.EndsWith(_stop, StringComparison.Ordinal)) finish = GenerationFinish.Stop;
        }
        if (finish == GenerationFinish.None && Remaining <= 0) finish = GenerationFinish.Length;
        if (_charsPerMessage == 1)
            Output.Writer.TryWrite(new GenerationOutput(c.Text, 1, c, charactersSeen, finish));
        else
        {
            _pending.Append(c.Text);
            _pendingChars++;
            (_pendingLast, _pendingSeen) = (c, charactersSeen);
            if (_pendingChars >= _charsPerMessage || finish != GenerationFinish.None)
            {
                Output.Writer.TryWrite(new GenerationOutput(_pending.ToString(), _pendingChars, c, charactersSeen, finish));
                _pending.Clear();
                _pendingChars = 0;
            }
        }
        if (finish != GenerationFinish.None) Output.Writer.TryComplete();
        return finish != GenerationFinish.None;
    }

    /// <summary>
    /// Ends the call with <paramref name="error"/>, after the chars of a message not yet full: the
    /// session's state is past them, and a client that goes on from characters_seen must have them.
    /// </summary>
    public void Fail(Exception error)
    {
        if (_pendingChars > 0 && _pendingLast is { } last)
        {
            Output.Writer.TryWrite(new GenerationOutput(_pending.ToString(), _pendingChars, last, _pendingSeen, GenerationFinish.None));
            _pending.Clear();
            _pendingChars = 0;
        }
        Output.Writer.TryComplete(error);
    }

    /// <summary>
    /// A call with coalesce (handler side): <paramref name="first"/> joined with the outputs already
    /// waiting behind it, up to <see cref="MaxCharsPerMessage"/> chars. A stream that keeps up finds
    /// none waiting and sends each as it comes; one behind sends one message where it would send many.
    /// </summary>
    public static GenerationOutput JoinReady(GenerationOutput first, ChannelReader<GenerationOutput> reader)
    {
        if (!reader.TryPeek(out var next) || first.Chars + next.Chars > MaxCharsPerMessage) return first;
        var text = new StringBuilder(first.Text);
        var joined = first;
        while (reader.TryPeek(out next) && joined.Chars + next.Chars <= MaxCharsPerMessage && reader.TryRead(out next))
        {
            text.Append(next.Text);
            joined = next with { Chars = joined.Chars + next.Chars }; // the last char, count and finish are the newest's
        }
        return joined with { Text = text.ToString() };
    }
}
