using CharRnn.Protos.V1;

namespace CharRnn.Tui.Tests;

/// <summary>
/// A server, in-process, that answers the status bar's polls with <paramref name="info"/> and empty lists: how the bar shows
/// what a server says of itself that the test machine's embedded server cannot (bf16 generation needs AVX512_BF16).
/// </summary>
internal sealed class CannedServerInfoInvoker(ServerInfo info) : UnaryAnswersInvoker
{
    protected override object Answer(object request, string method) => request switch
    {
        GetServerInfoRequest => info,
        ListArchitecturesRequest => new ListArchitecturesResponse(),
        ListModelsRequest => new ListModelsResponse(),
        ListJobsRequest => new ListJobsResponse(),
        ListCorporaRequest => new ListCorporaResponse(),
        _ => throw new NotSupportedException(method),
    };
}
