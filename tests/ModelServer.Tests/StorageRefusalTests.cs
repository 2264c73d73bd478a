using Grpc.Core;

namespace CharRnn.ModelServer.Tests;

/// <summary>
/// StorageRefusal's ending for a call left part done: what stands, not to try again and why, and what the server's operator
/// should do for the fault at hand (the calls' own tests reach the full disk; these the folder's other faults).
/// </summary>
public class StorageRefusalTests
{
    private static readonly Errors.StorageRefusal.PartDone Hidden =
        new("Model 'm' could not be put back: it is out of every listing, and the server's next start deletes it, as asked.", "a delete finds no model 'm' now");

    [Fact]
    public void A_call_left_part_done_on_a_read_only_file_system_says_not_to_try_again_and_to_make_the_folder_writable()
    {
        var refusal = Errors.StorageRefusal.For(new IOException("Read-only file system", 30), "/charrnn.v1.Catalog/DeleteModel", Hidden);
        Assert.NotNull(refusal);
        Assert.Equal(StatusCode.FailedPrecondition, refusal.Code);
        Assert.Equal("The server could not store what DeleteModel changes: it may not write to its models folder (a read-only file system). "
                     + "Model 'm' could not be put back: it is out of every listing, and the server's next start deletes it, as asked. "
                     + "Do not try again (a delete finds no model 'm' now); the server's operator should make the folder writable.", refusal.Message);
    }

    [Fact]
    public void A_call_only_the_next_start_finishes_asks_for_a_start_after_the_fix()
    {
        var refusal = Errors.StorageRefusal.For(new UnauthorizedAccessException("Access to the path is denied."), "/charrnn.v1.Catalog/RenameModel",
            new("Model 'm' is out of every listing.", "a rename finds no model 'm' now", NextStart: true));
        Assert.NotNull(refusal);
        Assert.Equal("The server may not read or write a file RenameModel needs in its models folder (permission denied). Model 'm' is out of every listing. "
                     + "Do not try again (a rename finds no model 'm' now); the server's operator should fix the folder's permissions and start the server again.", refusal.Message);
    }

    [Fact]
    public void A_fault_that_is_not_the_storages_is_no_storage_refusal_part_done_or_not() =>
        Assert.Null(Errors.StorageRefusal.For(new InvalidOperationException("No space"), "/charrnn.v1.Catalog/DeleteModel", Hidden));
}
