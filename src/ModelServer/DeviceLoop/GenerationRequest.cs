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
/// single writer of its gRPC stream. With several chars per message the chars gather here, so the
/// channel, the handler and gRPC each see one item per message, not per char. The lead is counted
/// in chars, whatever the message size: once <see cref="MaxLeadChars"/> are sampled and not yet
/// taken by the handler (slow client), the loop skips the session until the handler takes some.
/// </summary>
public sealed class GenerationRequest
{
    public const int MaxCharsPerMessage = 256;
    /// <summary>
    /// Chars sampled ahead of the handler, at most (each charged to the key's quota as sampled): a
    /// reader keeping up at one char a message never gets near it; two full messages of
    /// <see cref="MaxCharsPerMessage"/> fit, so one is ready while the other is sent.
    /// </summary>
    public const int MaxLeadChars = 2 * MaxCharsPerMessage;
    private readonly Channel<GenerationOutput> _channel;
    private int _unread; // chars in the channel, not yet taken by the handler (written on the loop, taken on the handler)
    private readonly StopString _stop;
    private readonly int _charsPerMessage;
    private readonly StringBuilder _pending = new();
    private int _pendingChars; // symbols in _pending (a symbol's text may be longer than one UTF-16 char)
    private GeneratedChar? _pendingLast;
    private long _pendingSeen;

    public GenerationRequest(ServerSession session, int maxChars, string stop, int alternatives, CancellationToken cancellation, int charsPerMessage = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(charsPerMessage, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(charsPerMessage, MaxCharsPerMessage);
        Session = session;
        Remaining = maxChars;
        _stop = new StopString(stop);
        Alternatives = alternatives;
        Cancellation = cancellation;
        _charsPerMessage = charsPerMessage;
        // Unbounded in items: CanAccept bounds it in chars, so a write never finds it full.
        _channel = Channel.CreateUnbounded<GenerationOutput>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        Output = new LeadReader(this);
    }

    public ServerSession Session { get; }

    /// <summary>Characters of the call's prime that the session's Skip dropped, each with its count: told on the call's first message.</summary>
    public IReadOnlyList<Engine.Text.SkippedCharacter> PrimeSkipped { get; init; } = [];
    private bool _primeSkippedTold;

    /// <summary>The handler's side: <see cref="PrimeSkipped"/> the first time, none after.</summary>
    public IReadOnlyList<Engine.Text.SkippedCharacter> TakePrimeSkipped()
    {
        if (_primeSkippedTold) return [];
        _primeSkippedTold = true;
        return PrimeSkipped;
    }

    public int Remaining { get; private set; }
    public int Delivered { get; private set; }
    public int Alternatives { get; }
    public CancellationToken Cancellation { get; }
    /// <summary>The handler's side of the output; each output it reads frees its chars of the lead.</summary>
    public ChannelReader<GenerationOutput> Output { get; }

    /// <summary>Room for another char: fewer than <see cref="MaxLeadChars"/> sampled and not yet taken (the client keeps up).</summary>
    public bool CanAccept => Volatile.Read(ref _unread) + _pendingChars < MaxLeadChars;

    private readonly TaskCompletionSource _letGo = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Done once the loop has let the call go (finished, failed or dropped as cancelled): <see cref="Delivered"/>
    /// is final then. Until that, a step already under way when the call was cancelled may still add a char.
    /// </summary>
    public Task LetGo => _letGo.Task;

    private void Write(GenerationOutput output)
    {
        Interlocked.Add(ref _unread, output.Chars);
        _channel.Writer.TryWrite(output);
    }

    /// <summary>Hands one char to the client; true when the request is complete (length or stop string).</summary>
    public bool Deliver(GeneratedChar c, long charactersSeen)
    {
        Remaining--;
        Delivered++;
        var finish = _stop.Reached(c.Text) ? GenerationFinish.Stop : GenerationFinish.None;
        if (finish == GenerationFinish.None && Remaining <= 0) finish = GenerationFinish.Length;
        if (_charsPerMessage == 1)
            Write(new GenerationOutput(c.Text, 1, c, charactersSeen, finish));
        else
        {
            _pending.Append(c.Text);
            _pendingChars++;
            (_pendingLast, _pendingSeen) = (c, charactersSeen);
            if (_pendingChars >= _charsPerMessage || finish != GenerationFinish.None)
            {
                Write(new GenerationOutput(_pending.ToString(), _pendingChars, c, charactersSeen, finish));
                _pending.Clear();
                _pendingChars = 0;
            }
        }
        if (finish != GenerationFinish.None)
        {
            _channel.Writer.TryComplete();
            _letGo.TrySetResult();
        }
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
            Write(new GenerationOutput(_pending.ToString(), _pendingChars, last, _pendingSeen, GenerationFinish.None));
            _pending.Clear();
            _pendingChars = 0;
        }
        _channel.Writer.TryComplete(error);
        _letGo.TrySetResult();
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

    /// <summary>The channel's reader, giving back each output's chars to the lead as the handler takes it.</summary>
    private sealed class LeadReader(GenerationRequest request) : ChannelReader<GenerationOutput>
    {
        private ChannelReader<GenerationOutput> Inner => request._channel.Reader;
        public override Task Completion => Inner.Completion;
        public override bool CanPeek => true;
        public override bool TryPeek(out GenerationOutput item) => Inner.TryPeek(out item);
        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) => Inner.WaitToReadAsync(cancellationToken);

        public override bool TryRead(out GenerationOutput item)
        {
            if (!Inner.TryRead(out item)) return false;
            Interlocked.Add(ref request._unread, -item.Chars);
            return true;
        }
    }
}
