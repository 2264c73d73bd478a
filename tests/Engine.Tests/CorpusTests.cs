using System.Net;
using System.Text;
using CharRnn.Engine.Text;

namespace CharRnn.Engine.Tests;

public class CorpusTests
{
    private static KnownCorpus Fake(byte[] content, string url = "http://127.0.0.1:9/fake.txt") =>
        new("fake", "fake.txt", new Uri(url), Corpus.HexSha256(content), "test corpus");

    private static Task<byte[]> NoDownload(Uri u, CancellationToken c) => throw new InvalidOperationException("must not download");

    [Fact]
    public void An_explicit_path_is_read_as_strict_utf8_without_its_bom()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("t.txt"), [0xEF, 0xBB, 0xBF, .. "héllo"u8.ToArray()]);
        var corpus = new CorpusResolver(dir.Path, NoDownload).Resolve(dir.File("t.txt"));
        Assert.Equal("héllo", corpus.Text);
        Assert.Equal("t", corpus.Name);
    }

    [Fact]
    public void A_corpus_counts_its_characters_as_code_points_apart_from_its_utf16_units()
    {
        // An emoji beyond U+FFFF is one character and two UTF-16 units; a ZWJ family is five characters (three people, two joiners).
        using var dir = new TempFolder();
        var text = "a😀b\r\n👨\u200d👩\u200d👧";
        // A pair split across the fingerprint's 64 KiB reads counts once too.
        File.WriteAllBytes(dir.File("emoji.txt"), Encoding.UTF8.GetBytes(new string('a', (1 << 16) - 2) + text));
        var corpus = Corpus.FromFile(dir.File("emoji.txt"));
        Assert.Equal((1 << 16) - 2 + 1 + 1 + 1 + 1 + 5, corpus.CodePoints);
        Assert.Equal((1 << 16) - 2 + 1 + 2 + 1 + 1 + 8, corpus.Length);
        Assert.Equal(new CorpusFingerprint(corpus.Length, corpus.Sha256, corpus.CodePoints), CorpusFingerprint.Measure(dir.File("emoji.txt")));
    }

    [Fact]
    public void Windows_line_endings_load_as_newlines_and_the_fingerprint_counts_what_loads()
    {
        using var dir = new TempFolder();
        // A "\r\n" split across the fingerprint's 64 KiB reads too; a lone '\r' is text and stays.
        var raw = new string('a', (1 << 16) - 1) + "\r\nb\rc\r\n\r\r\nd";
        var bytes = Encoding.UTF8.GetBytes(raw);
        File.WriteAllBytes(dir.File("crlf.txt"), bytes);
        var corpus = Corpus.FromFile(dir.File("crlf.txt"));
        Assert.Equal(new string('a', (1 << 16) - 1) + "\nb\rc\n\r\nd", corpus.Text);
        Assert.Equal(Corpus.HexSha256(bytes), corpus.Sha256); // the file's bytes: a model trained on them before still matches
        Assert.Equal(new CorpusFingerprint(corpus.Length, corpus.Sha256, corpus.CodePoints), CorpusFingerprint.Measure(dir.File("crlf.txt")));
        Assert.Equal(raw, corpus.AsRead().Text);
        Assert.Equal(raw.Length, corpus.LengthAsRead);
        var lf = Corpus.FromBytes(Encoding.UTF8.GetBytes("a\nb"), "lf", "lf");
        Assert.Same(lf, lf.AsRead()); // nothing was normalised
        Assert.Equal(3, lf.LengthAsRead);
    }

    [Fact]
    public void Invalid_utf8_is_an_error_naming_the_offset()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("bad.txt"), [(byte)'o', (byte)'k', 0xC3, 0x28]);
        var e = Assert.Throws<CorpusException>(() => Corpus.FromFile(dir.File("bad.txt")));
        Assert.Contains("not valid UTF-8", e.Message);
        Assert.Contains("offset 2", e.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0xFE, (byte)'h', 0, (byte)'i', 0 }, "UTF-16 (its first bytes, FF FE, are UTF-16's byte-order mark)")]
    [InlineData(new byte[] { 0xFE, 0xFF, 0, (byte)'h', 0, (byte)'i' }, "UTF-16 (its first bytes, FE FF, are UTF-16's byte-order mark)")]
    [InlineData(new byte[] { 0xFF, 0xFE, 0, 0, (byte)'h', 0, 0, 0 }, "UTF-32 (its first bytes, FF FE 00 00, are UTF-32's byte-order mark)")]
    public void A_utf16_or_utf32_file_is_refused_naming_its_encoding_and_how_to_convert_it(byte[] bytes, string encoding)
    {
        // Notepad's "Unicode" and PowerShell 5's > write UTF-16: "first bad byte at offset 0" told its user nothing.
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("wide.txt"), bytes);
        var expected = $"Corpus '{dir.File("wide.txt")}' is {encoding}, not UTF-8; convert it (iconv -f {encoding[..6]} -t UTF-8) or save it as UTF-8 text.";
        Assert.Equal(expected, Assert.Throws<CorpusException>(() => Corpus.FromFile(dir.File("wide.txt"))).Message);
        Assert.Equal(expected, Assert.Throws<CorpusException>(() => CorpusFingerprint.Measure(dir.File("wide.txt"))).Message);
    }

    [Theory]
    [InlineData("utf-16", "UTF-16LE", 6)]
    [InlineData("utf-16BE", "UTF-16BE", 7)]
    [InlineData("utf-32", "UTF-32LE", 12)]
    public void A_file_without_its_byte_order_mark_and_with_a_letter_beyond_ascii_is_named_by_where_its_nuls_fall(string encoding, string named, int badOffset)
    {
        // é is E9 00 in UTF-16LE: not UTF-8, where the same file of ASCII alone is refused for its NULs (NulInCorpus).
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("wide.txt"), System.Text.Encoding.GetEncoding(encoding).GetBytes("café au lait\n"));
        var expected = $"Corpus '{dir.File("wide.txt")}' is not valid UTF-8 (first bad byte at offset {badOffset}); its NULs fall where {named}'s would: it looks like {named} "
                       + $"without its byte-order mark, not UTF-8; convert it (iconv -f {named} -t UTF-8) or save it as UTF-8 text.";
        Assert.Equal(expected, Assert.Throws<CorpusException>(() => Corpus.FromFile(dir.File("wide.txt"))).Message);
        Assert.Equal(expected, Assert.Throws<CorpusException>(() => CorpusFingerprint.Measure(dir.File("wide.txt"))).Message);
    }

    /// <summary>
    /// CJK (or Ukrainian ґ, 91 04) in UTF-16 without its byte-order mark is not UTF-8 and has no NUL to tell it by: it was
    /// refused by the offset of its first bad byte alone. Its bytes read as text in one byte order only, so the refusal names
    /// that UTF-16 and its iconv. Latin-1 text, never UTF-16 (no control byte), keeps the bare offset.
    /// </summary>
    [Theory]
    [InlineData("utf-16", "中文文本。这是一个测试。\n第二行。\n", "UTF-16LE")]
    [InlineData("utf-16BE", "中文文本。这是一个测试。\n第二行。\n", "UTF-16BE")]
    [InlineData("utf-16", "日本語のテキストです。\n", "UTF-16LE")]
    [InlineData("utf-16", "ґанок і їжак\n", "UTF-16LE")]
    [InlineData("iso-8859-1", "café au lait, très bien\n", null)]
    public void A_utf16_file_without_its_byte_order_mark_and_without_nuls_to_tell_it_by_is_named_by_how_its_bytes_read(string encoding, string text, string? named)
    {
        using var dir = new TempFolder();
        var bytes = System.Text.Encoding.GetEncoding(encoding).GetBytes(text);
        File.WriteAllBytes(dir.File("wide.txt"), bytes);
        var badOffset = FirstBadByte(bytes);
        var expected = $"Corpus '{dir.File("wide.txt")}' is not valid UTF-8 (first bad byte at offset {badOffset}); " + (named == null ? "" :
            $"its bytes read as text in {named}, two to a character: it looks like {named} without its byte-order mark, not UTF-8; convert it (iconv -f {named} -t UTF-8) or ")
            + "save it as UTF-8 text.";
        Assert.Equal(expected, Assert.Throws<CorpusException>(() => Corpus.FromFile(dir.File("wide.txt"))).Message);
        Assert.Equal(expected, Assert.Throws<CorpusException>(() => CorpusFingerprint.Measure(dir.File("wide.txt"))).Message);
    }

    private static int FirstBadByte(byte[] bytes)
    {
        try
        {
            _ = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            throw new InvalidOperationException("the test's bytes are valid UTF-8");
        }
        catch (System.Text.DecoderFallbackException e) { return e.Index; }
    }

    [Fact]
    public void An_empty_file_is_an_error()
    {
        using var dir = new TempFolder();
        File.WriteAllBytes(dir.File("empty.txt"), []);
        Assert.Contains("is empty", Assert.Throws<CorpusException>(() => Corpus.FromFile(dir.File("empty.txt"))).Message);
    }

    [Fact]
    public void A_missing_path_that_is_no_known_name_is_an_error()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<CorpusException>(() => new CorpusResolver(dir.Path, NoDownload).Resolve("/no/such/file.txt"));
        Assert.Contains("neither a file nor a known corpus", e.Message);
    }

    [Fact]
    public void A_misspelt_known_corpus_name_gets_a_suggestion()
    {
        using var dir = new TempFolder();
        var e = Assert.Throws<CorpusException>(() => new CorpusResolver(dir.Path, NoDownload).Resolve("nietzche"));
        Assert.Contains("Did you mean 'nietzsche'?", e.Message);
    }

    [Fact]
    public void A_known_corpus_comes_from_the_cache_when_its_hash_matches()
    {
        using var cache = new TempFolder();
        var content = "cached text"u8.ToArray();
        File.WriteAllBytes(cache.File("fake.txt"), content);
        var corpus = new CorpusResolver(cache.Path, NoDownload).ResolveKnown(Fake(content));
        Assert.Equal("cached text", corpus.Text);
    }

    [Fact]
    public void A_download_is_verified_then_cached_atomically_and_reused()
    {
        using var cache = new TempFolder();
        var content = "downloaded text"u8.ToArray();
        int downloads = 0;
        var resolver = new CorpusResolver(cache.Path, (_, _) => { downloads++; return Task.FromResult(content); });
        Assert.Equal("downloaded text", resolver.ResolveKnown(Fake(content)).Text);
        Assert.Equal("downloaded text", resolver.ResolveKnown(Fake(content)).Text);
        Assert.Equal(1, downloads);
        Assert.Equal(content, File.ReadAllBytes(cache.File("fake.txt")));
        Assert.Single(Directory.GetFiles(cache.Path)); // no temp files left behind
    }

    [Fact]
    public void A_download_with_the_wrong_hash_is_refused_and_not_saved()
    {
        using var cache = new TempFolder();
        var expected = "the real thing"u8.ToArray();
        var resolver = new CorpusResolver(cache.Path, (_, _) => Task.FromResult("tampered"u8.ToArray()));
        var e = Assert.Throws<CorpusException>(() => resolver.ResolveKnown(Fake(expected)));
        Assert.Contains("SHA-256", e.Message);
        Assert.False(File.Exists(cache.File("fake.txt")));
    }

    [Fact]
    public void A_damaged_cache_entry_is_replaced_by_a_fresh_download()
    {
        using var cache = new TempFolder();
        var content = "good"u8.ToArray();
        File.WriteAllBytes(cache.File("fake.txt"), "bad"u8.ToArray());
        var corpus = new CorpusResolver(cache.Path, (_, _) => Task.FromResult(content)).ResolveKnown(Fake(content));
        Assert.Equal("good", corpus.Text);
        Assert.Equal(content, File.ReadAllBytes(cache.File("fake.txt")));
    }

    [Fact]
    public void Offline_with_a_wrong_cached_copy_says_the_copy_is_wrong_not_that_there_is_none()
    {
        using var cache = new TempFolder();
        File.WriteAllBytes(cache.File("fake.txt"), "another edition"u8.ToArray());
        var expected = "x"u8.ToArray();
        var e = Assert.Throws<CorpusException>(() => new CorpusResolver(cache.Path).ResolveKnown(Fake(expected)));
        Assert.DoesNotContain("not in the cache", e.Message);
        Assert.Contains($"has SHA-256 {Corpus.HexSha256("another edition"u8.ToArray())}, not the expected {Corpus.HexSha256(expected)}", e.Message);
        Assert.Equal("another edition", File.ReadAllText(cache.File("fake.txt"))); // left for the user to replace
    }

    [Fact]
    public void Offline_with_no_copy_says_how_to_supply_the_file()
    {
        using var cache = new TempFolder();
        // The real downloader against a closed local port: fails fast, as offline does.
        var resolver = new CorpusResolver(cache.Path);
        var e = Assert.Throws<CorpusException>(() => resolver.ResolveKnown(Fake("x"u8.ToArray())));
        Assert.Contains("downloading it from http://127.0.0.1:9/fake.txt failed", e.Message);
        Assert.Contains(cache.File("fake.txt"), e.Message);
        Assert.Contains("--corpus PATH", e.Message);
    }

    [Fact]
    public void The_cache_folder_follows_the_environment()
    {
        var saved = (Environment.GetEnvironmentVariable("CHARRNN_CACHE_DIR"), Environment.GetEnvironmentVariable("XDG_CACHE_HOME"));
        try
        {
            Environment.SetEnvironmentVariable("CHARRNN_CACHE_DIR", null);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", "/xdg");
            Assert.Equal("/xdg/charrnn", CorpusResolver.DefaultCacheDirectory());
            Environment.SetEnvironmentVariable("CHARRNN_CACHE_DIR", "/explicit");
            Assert.Equal("/explicit", CorpusResolver.DefaultCacheDirectory());
        }
        finally
        {
            Environment.SetEnvironmentVariable("CHARRNN_CACHE_DIR", saved.Item1);
            Environment.SetEnvironmentVariable("XDG_CACHE_HOME", saved.Item2);
        }
    }

    /// <summary>The default corpus, from the shared copy (as the Makefile seeds it) or the user cache.</summary>
    [Fact]
    public void Nietzsche_resolves_with_the_lesson_facts()
    {
        using var cache = new TempFolder();
        var shared = SharedNietzsche();
        var cacheDir = CorpusResolver.DefaultCacheDirectory();
        if (shared != null)
        {
            File.Copy(shared, cache.File("nietzsche.txt"));
            cacheDir = cache.Path;
        }
        var corpus = new CorpusResolver(cacheDir).Resolve(null);
        Assert.Equal("nietzsche", corpus.Name);
        Assert.Equal(KnownCorpus.Nietzsche.Sha256, corpus.Sha256);
        Assert.Equal(600_893, corpus.Text.EnumerateRunes().Count());
        Assert.Equal(85, Vocabulary.Build(corpus.Text).Size);          // 84 chars + padding
        Assert.Equal(58, Vocabulary.Build(corpus.Text, lowercase: true).Size); // 57 + padding
    }

    internal static string? SharedNietzsche()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "data", "nietzsche.txt");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
