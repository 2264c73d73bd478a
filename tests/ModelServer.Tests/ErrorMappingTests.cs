using CharRnn.ModelServer.Errors;
using CharRnn.ModelServer.Metrics;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;

namespace CharRnn.ModelServer.Tests;

/// <summary>What charrnn_grpc_errors_total counts of the errors calls end with.</summary>
[Collection(ServerCollection.Name)]
public class ErrorMappingTests(ServerFixture server)
{
    [Fact]
    public async Task An_error_a_call_meets_after_its_client_left_is_not_counted()
    {
        // A client's ordinary way to stop: cancel its Generate, then close the session at once. The Generate,
        // its client gone, may then find its session closed (NOT_FOUND): no failure of the server to alert on.
        var interceptor = ActivatorUtilities.CreateInstance<ErrorMappingInterceptor>(server.Services);
        var notFound = ServerMetrics.Errors.WithLabels(StatusCode.NotFound.ToString(), "", ""); // no caller: no key
        var before = notFound.Value;
        Task<string> SessionClosed(string request, ServerCallContext context) => throw ServerException.NotFound("Session 'x' was closed.");
        using var left = new CancellationTokenSource();
        await left.CancelAsync();

        var e = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext("/charrnn.v1.Generation/Generate", left.Token), SessionClosed));
        Assert.Equal(StatusCode.NotFound, e.StatusCode);
        Assert.Equal(0, notFound.Value - before);

        await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext("/charrnn.v1.Generation/Generate"), SessionClosed));
        Assert.Equal(1, notFound.Value - before); // its client still there: an error
    }

    [Fact]
    public async Task A_full_disk_is_counted_with_its_own_reason_not_as_any_other_resource_exhausted()
    {
        // An operator's alert on disk_full must not fire for a quota or a message's size, nor miss the disk among them.
        var interceptor = ActivatorUtilities.CreateInstance<ErrorMappingInterceptor>(server.Services);
        var diskFull = ServerMetrics.Errors.WithLabels(StatusCode.ResourceExhausted.ToString(), ServerMetrics.DiskFullReason, ""); // no caller: no key
        var before = diskFull.Value;
        Task<string> Full(string request, ServerCallContext context) => throw ServerException.DiskFull("Corpus 'x' could not be stored: the server's disk is full.");

        var e = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext("/charrnn.v1.Catalog/UploadCorpus"), Full));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal(1, diskFull.Value - before);
    }

    [Theory]
    [InlineData("sqlite full")] // ShareModel, StartJob: the database's row (SQLITE_FULL)
    [InlineData("enospc")]      // RenameModel: its note's file
    public async Task A_write_the_full_disk_refuses_in_any_call_is_disk_full_saying_so_not_internal(string fault)
    {
        // Found on a real 3 MB tmpfs filled up: StartJob, ShareModel and RenameModel ended INTERNAL "SqliteException. See the
        // server log", while UploadCorpus on the same disk said it was full.
        var interceptor = ActivatorUtilities.CreateInstance<ErrorMappingInterceptor>(server.Services);
        var diskFull = ServerMetrics.Errors.WithLabels(StatusCode.ResourceExhausted.ToString(), ServerMetrics.DiskFullReason, ""); // no caller: no key
        var before = diskFull.Value;
        Exception refused = fault == "enospc" ? new IOException("No space left on device : '/srv/models/.renaming-1.tmp'", 28)
            : new Microsoft.Data.Sqlite.SqliteException("SQLite Error 13: 'database or disk is full'.", 13);
        Task<string> Write(string request, ServerCallContext context) => throw refused;
        var method = $"/test.DiskFull/{fault.Replace(' ', '_')}";

        var e = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext(method), Write));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        Assert.Equal($"The server could not store what {fault.Replace(' ', '_')} changes: its disk is full (or over its quota, or failing). Try again once the server's operator has made room.", e.Status.Detail);
        Assert.Equal(ErrorReasons.DiskFull, ErrorDetails.ReasonOf(e));
        Assert.Equal(1, diskFull.Value - before);
        // The operator sees why, without a stack, beside the failed call's line with its request id.
        Assert.Equal([$"Warning: {method} by an unknown caller not done: the disk refused a write: {refused.Message}",
            $"Information: {method} by an unknown caller (ipv4:127.0.0.1:1) failed RESOURCE_EXHAUSTED DISK_FULL (request {e.Trailers.GetValue(ErrorMappingInterceptor.RequestIdTrailer)})"],
            server.Log.With(method));
    }

    [Fact]
    public async Task A_failed_calls_line_names_a_reason_only_where_it_says_more_than_the_code()
    {
        // Seen at a shutdown: "WatchJob by alice (…) failed UNAVAILABLE UNAVAILABLE (request …)", the code's own generic reason again.
        var interceptor = ActivatorUtilities.CreateInstance<ErrorMappingInterceptor>(server.Services);
        Task<string> Ended(string request, ServerCallContext context) => throw new RpcException(new Status(StatusCode.Unavailable, "The server is shutting down."));
        const string method = "/test.Generic/Unavailable";
        var e = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext(method), Ended));
        Assert.Equal([$"Information: {method} by an unknown caller (ipv4:127.0.0.1:1) failed UNAVAILABLE (request {e.Trailers.GetValue(ErrorMappingInterceptor.RequestIdTrailer)})"],
            server.Log.With(method));
    }

    [Theory]
    [InlineData("erofs", "a read-only file system")]            // RenameModel, DeleteModel, UploadCorpus: a file or folder's move
    [InlineData("eacces", "permission denied")]                 // the folder's permissions
    [InlineData("sqlite readonly", "its database is read-only")] // the database's row
    public async Task A_write_a_read_only_models_folder_refuses_is_a_failed_precondition_saying_so_not_internal(string fault, string why)
    {
        // Found with the models folder bind-mounted read-only under a running server: RenameModel, UploadCorpus and
        // DeleteModel ended INTERNAL "IOException. See the server log".
        var interceptor = ActivatorUtilities.CreateInstance<ErrorMappingInterceptor>(server.Services);
        Exception refused = fault switch
        {
            "erofs" => new IOException("Read-only file system : '/srv/models/.renaming-1.tmp'", 30),
            "eacces" => new UnauthorizedAccessException("Access to the path '/srv/models/m' is denied."),
            _ => new Microsoft.Data.Sqlite.SqliteException("SQLite Error 8: 'attempt to write a readonly database'.", 8),
        };
        Task<string> Write(string request, ServerCallContext context) => throw refused;
        var method = $"/test.ReadOnly/{fault.Replace(' ', '_')}";

        var e = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext(method), Write));
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Equal(fault == "eacces"
            ? "The server may not read or write a file eacces needs in its models folder (permission denied). Try again once the server's operator has fixed the folder's permissions."
            : $"The server could not store what {fault.Replace(' ', '_')} changes: it may not write to its models folder ({why}). Try again once the server's operator has made the folder writable.",
            e.Status.Detail);
        Assert.Equal($"Warning: {method} by an unknown caller not done: the disk refused a write: {refused.Message}", server.Log.With(method)[0]);
    }

    [Fact]
    public async Task A_deadline_that_passed_is_counted_with_its_reason_and_logged_once_as_information()
    {
        var interceptor = ActivatorUtilities.CreateInstance<ErrorMappingInterceptor>(server.Services);
        var deadline = ServerMetrics.Errors.WithLabels(StatusCode.DeadlineExceeded.ToString(), ServerMetrics.DeadlineReason, ""); // no caller: no key
        var before = deadline.Value;
        using var atDeadline = new CancellationTokenSource();
        await atDeadline.CancelAsync();

        // gRPC ended the call at its deadline: the handler meets the cancellation.
        Task<string> Waiting(string request, ServerCallContext context) => throw new OperationCanceledException(context.CancellationToken);
        await Assert.ThrowsAsync<OperationCanceledException>(() => interceptor.UnaryServerHandler("",
            new BareCallContext("/test.Deadline/PassedInGrpc", atDeadline.Token, DateTime.UtcNow.AddSeconds(-1)), Waiting));
        // Generate's own clean end just before the deadline.
        Task<string> EndedClean(string request, ServerCallContext context) => throw new RpcException(new Status(StatusCode.DeadlineExceeded, "The call's deadline passed after 3 of 9 characters."));
        var e = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext("/test.Deadline/EndedClean"), EndedClean));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);

        Assert.True(deadline.Value >= before + 2, $"{deadline.Value - before} deadlines counted with reason deadline"); // other servers in this process count too
        var grpc = Assert.Single(server.Log.With("/test.Deadline/PassedInGrpc"));
        Assert.StartsWith("Information: /test.Deadline/PassedInGrpc by an unknown caller (ipv4:127.0.0.1:1) ended DEADLINE_EXCEEDED", grpc);
        Assert.Equal([$"Information: /test.Deadline/EndedClean by an unknown caller (ipv4:127.0.0.1:1) ended DEADLINE_EXCEEDED: The call's deadline passed after 3 of 9 characters. (request {e.Trailers.GetValue(ErrorMappingInterceptor.RequestIdTrailer)})"],
            server.Log.With("/test.Deadline/EndedClean"));
    }

    [Fact]
    public async Task An_unexpected_error_after_the_client_left_is_counted_and_logged_once()
    {
        // A fault of the server's own (here, a bug's InvalidOperationException) is one whether or not its client is still there.
        var interceptor = ActivatorUtilities.CreateInstance<ErrorMappingInterceptor>(server.Services);
        var internalErrors = ServerMetrics.Errors.WithLabels(StatusCode.Internal.ToString(), "", ""); // no caller: no key
        var before = internalErrors.Value;
        using var left = new CancellationTokenSource();
        await left.CancelAsync();
        Task<string> Broken(string request, ServerCallContext context) => throw new InvalidOperationException("a bug");

        var e = await Assert.ThrowsAsync<RpcException>(() => interceptor.UnaryServerHandler("", new BareCallContext("/test.Left/Broken", left.Token), Broken));
        Assert.Equal(StatusCode.Internal, e.StatusCode);
        Assert.True(internalErrors.Value >= before + 1, $"{internalErrors.Value - before} internal errors counted");
        Assert.Matches("^Error: Unhandled error in /test.Left/Broken \\(request [0-9a-f]{8}\\)$", Assert.Single(server.Log.With("/test.Left/Broken")));

        // What a client's leaving itself causes (a read cut off) is still no failure.
        Task<string> CutOff(string request, ServerCallContext context) => throw new IOException("The client reset the request stream.");
        await Assert.ThrowsAsync<IOException>(() => interceptor.UnaryServerHandler("", new BareCallContext("/test.Left/CutOff", left.Token), CutOff));
        Assert.Empty(server.Log.With("/test.Left/CutOff"));
    }
}
