using CharRnn.Engine.Batching;
using static TorchSharp.torch;

namespace CharRnn.Engine.Tests;

public class BatcherTests
{
    private static readonly int[] Ids = Enumerable.Range(0, 20).ToArray();

    private static long[] Flat(Tensor t) => t.contiguous().data<long>().ToArray();

    [Fact]
    public void Batchers_leave_no_tensors_behind_once_disposed()
    {
        var live = TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        using (new LanguageModelBatcher(Ids, batchSize: 2, bptt: 3, CPU, randomBptt: false, seed: 1)) { }
        using (new WindowBatcher(WindowedExamples.NextChar(Ids, n: 3, stride: 1), batchSize: 4, CPU, shuffle: true, seed: 1)) { }
        using (new WindowBatcher(WindowedExamples.Sequences(Ids, n: 3), batchSize: 4, CPU, shuffle: false, seed: 1)) { }
        Assert.Equal(live, TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount); // host copies made on the way to the device included
    }

    [Fact]
    public void Char3_windows_are_non_overlapping_triples_with_the_next_char()
    {
        var e = WindowedExamples.NextChar(Ids[..10], n: 3, stride: 3);
        // the lesson: range(0, len - 3, 3) → starts 0, 3, 6
        Assert.Equal(3, e.Count);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4, 5, 6, 7, 8 }, e.Inputs);
        Assert.Equal(new long[] { 3, 6, 9 }, e.Targets);
    }

    [Fact]
    public void Eight_char_windows_overlap_and_predict_the_next_char()
    {
        var e = WindowedExamples.NextChar(Ids[..11], n: 8, stride: 1);
        Assert.Equal(3, e.Count);
        Assert.Equal(new long[] { 1, 2, 3, 4, 5, 6, 7, 8 }, e.Inputs[8..16]);
        Assert.Equal(new long[] { 8, 9, 10 }, e.Targets);
    }

    [Fact]
    public void Multi_output_windows_are_shifted_by_one()
    {
        var e = WindowedExamples.Sequences(Ids, n: 8);
        // range(0, 20 - 8 - 1, 8) → starts 0, 8
        Assert.Equal(2, e.Count);
        Assert.Equal(new long[] { 8, 9, 10, 11, 12, 13, 14, 15 }, e.Inputs[8..]);
        Assert.Equal(new long[] { 9, 10, 11, 12, 13, 14, 15, 16 }, e.Targets[8..]);
    }

    [Fact]
    public void Validation_windows_are_a_seeded_random_share()
    {
        var e = WindowedExamples.NextChar(Enumerable.Range(0, 108).ToArray(), n: 8, stride: 1);
        var (train, valid) = e.Split(0.2, seed: 3);
        Assert.Equal(20, valid.Count);
        Assert.Equal(80, train.Count);
        var again = e.Split(0.2, seed: 3).Valid;
        Assert.Equal(valid.Targets, again.Targets);
        Assert.NotEqual(valid.Targets, e.Split(0.2, seed: 4).Valid.Targets);
        Assert.Empty(train.Targets.Intersect(valid.Targets)); // targets are unique here, so no window is in both
        Assert.NotEqual(Enumerable.Range(88, 20).Select(i => (long)i), valid.Targets); // not simply the tail
    }

    [Fact]
    public void Window_batches_cover_every_example_once_per_epoch_in_a_seeded_order()
    {
        var e = WindowedExamples.NextChar(Enumerable.Range(0, 58).ToArray(), n: 8, stride: 1);
        using var batcher = new WindowBatcher(e, batchSize: 16, CPU, shuffle: true, seed: 1);
        Assert.Equal(4, batcher.BatchesPerEpoch(0)); // 50 examples → 16+16+16+2
        var epoch0 = Enumerable.Range(0, 4).SelectMany(i => Flat(batcher.Get(0, i).Y)).ToArray();
        Assert.Equal(Enumerable.Range(8, 50).Select(i => (long)i), epoch0.Order());
        var epoch1 = Enumerable.Range(0, 4).SelectMany(i => Flat(batcher.Get(1, i).Y)).ToArray();
        Assert.NotEqual(epoch0, epoch1);
        Assert.Equal(epoch0, Enumerable.Range(0, 4).SelectMany(i => Flat(batcher.Get(0, i).Y))); // replayable
        var first = batcher.Get(0, 0);
        Assert.Equal(Flat(first.Y), Flat(first.X.select(1, 7)).Select(x => x + 1)); // each target follows its window
    }

    [Fact]
    public void The_stream_layout_cuts_the_text_into_bs_contiguous_streams_read_bptt_at_a_time()
    {
        using var batcher = new LanguageModelBatcher(Ids, batchSize: 2, bptt: 3, CPU, randomBptt: false, seed: 0);
        // streams: 0..9 and 10..19; data[t, b] = stream b at t
        Assert.Equal(10, batcher.StreamLength);
        Assert.Equal([(0L, 3L), (3L, 3L), (6L, 3L)], batcher.Segments(0)); // the last target is char 9 of each stream
        var b0 = batcher.Get(0, 0);
        Assert.Equal(new long[] { 3, 2 }, b0.X.shape);
        Assert.Equal(new long[] { 0, 10, 1, 11, 2, 12 }, Flat(b0.X));
        Assert.Equal(new long[] { 1, 11, 2, 12, 3, 13 }, Flat(b0.Y));
        var b1 = batcher.Get(0, 1);
        Assert.Equal(new long[] { 3, 13, 4, 14, 5, 15 }, Flat(b1.X)); // batch 2 continues each stream where batch 1 stopped
        Assert.Equal(new long[] { 7, 17, 8, 18, 9, 19 }, Flat(batcher.Get(0, 2).Y));
    }

    [Fact]
    public void The_remainder_that_does_not_fill_a_stream_is_dropped()
    {
        using var batcher = new LanguageModelBatcher(Ids[..11], batchSize: 2, bptt: 4, CPU, randomBptt: false, seed: 0);
        Assert.Equal(5, batcher.StreamLength);
        Assert.Equal(new long[] { 0, 5, 1, 6, 2, 7, 3, 8 }, Flat(batcher.Get(0, 0).X));
    }

    [Fact]
    public void Streams_for_scoring_overlap_by_one_so_every_char_after_the_first_is_a_target_once()
    {
        using var batcher = LanguageModelBatcher.ForScoring(Enumerable.Range(0, 21).ToArray(), batchSize: 2, bptt: 4, CPU, "text");
        // streams: 0..10 and 10..20; char 10 ends the first and is the second's first input
        Assert.Equal(11, batcher.StreamLength);
        Assert.Equal(new long[] { 0, 10, 1, 11, 2, 12, 3, 13 }, Flat(batcher.Get(0, 0).X));
        var targets = Enumerable.Range(0, batcher.BatchesPerEpoch(0)).SelectMany(i => Flat(batcher.Get(0, i).Y)).Order();
        Assert.Equal(Enumerable.Range(1, 20).Select(i => (long)i), targets);
    }

    [Fact]
    public void Streams_for_scoring_leave_no_remainder_the_last_stream_reads_it_in_a_last_one_column_batch()
    {
        using var batcher = LanguageModelBatcher.ForScoring(Enumerable.Range(0, 24).ToArray(), batchSize: 4, bptt: 4, CPU, "text");
        // streams 0..5, 5..10, 10..15, 15..20; chars 21..23 follow the last stream, from its state (row 3)
        Assert.Equal(6, batcher.StreamLength);
        Assert.Equal(3, batcher.TailCharacters);
        Assert.Equal(3, batcher.BatchesPerEpoch(0));
        var tail = batcher.Get(0, 2);
        Assert.Equal(new long[] { 3, 1 }, tail.X.shape);
        Assert.Equal(new long[] { 20, 21, 22 }, Flat(tail.X));
        Assert.Equal(new long[] { 21, 22, 23 }, Flat(tail.Y));
        Assert.Equal((3L, 1L), tail.StateRows);
        Assert.Null(batcher.Get(0, 1).StateRows);
        var targets = Enumerable.Range(0, batcher.BatchesPerEpoch(0)).SelectMany(i => Flat(batcher.Get(0, i).Y)).Order();
        Assert.Equal(Enumerable.Range(1, 23).Select(i => (long)i), targets);
    }

    [Fact]
    public void Random_bptt_varies_lengths_but_covers_each_stream_exactly_and_replays()
    {
        var ids = Enumerable.Range(0, 20_000).Select(i => i % 50).ToArray();
        using var batcher = new LanguageModelBatcher(ids, batchSize: 4, bptt: 16, CPU, randomBptt: true, seed: 5);
        var segments = batcher.Segments(0).ToList();
        Assert.True(segments.Select(s => s.Length).Distinct().Count() > 5);
        Assert.All(segments, s => Assert.True(s.Length >= 5));
        long next = 0;
        foreach (var (start, length) in segments) { Assert.Equal(next, start); next = start + length; }
        Assert.Equal(batcher.StreamLength - 1, next);
        Assert.NotEqual(segments, batcher.Segments(1).ToList()); // another epoch, other lengths
        Assert.Equal(segments, batcher.Segments(0)); // the same epoch replays exactly
    }

    [Fact]
    public void A_text_too_short_for_bs_streams_is_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => new LanguageModelBatcher(Ids[..5], batchSize: 4, bptt: 8, CPU, false, 0));
        Assert.Contains("5 characters", e.Message);
        Assert.Contains("bs = 4", e.Message);
    }
}
