using CharRnn.Protos.V1;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A server, in-process, that lists <paramref name="architectures"/>: one newer or older than this client, whose
/// architectures or lesson classes are not those of the client's own engine.
/// </summary>
internal sealed class CannedArchitecturesInvoker(ListArchitecturesResponse architectures) : UnaryAnswersInvoker
{
    protected override object Answer(object request, string method) => request switch
    {
        ListArchitecturesRequest => architectures,
        _ => throw new NotSupportedException(method),
    };
}
