using System.Security.Cryptography.X509Certificates;

namespace CharRnn.ModelServer.Hosting;

/// <summary>
/// The listener's TLS certificate from --tls-cert: a .pfx (its password from --tls-password or --tls-password-file),
/// or a PEM certificate with its key (in --tls-key or after it in the same file, encrypted or not). Every way it can
/// fail is an error naming the file and the option, and what to give instead.
/// </summary>
public static class TlsCertificateFile
{
    public static X509Certificate2 Load(string certificate, string? key, string? password, string? passwordFile)
    {
        var (passphrase, passwordFlag) = passwordFile is { } file
            ? (PassphraseFromFile(file), $"--tls-password-file '{file}'") : (password, "--tls-password");
        return LoadWith(certificate, key, passphrase, passwordFlag);
    }

    /// <param name="passwordFlag">Where <paramref name="password"/> came from, for the errors.</param>
    private static X509Certificate2 LoadWith(string certificate, string? key, string? password, string passwordFlag)
    {
        if (!File.Exists(certificate)) throw new ArgumentException($"TLS certificate '{certificate}' does not exist.");
        // A PEM file is text that starts its blocks with "-----BEGIN"; read as PKCS#12 it fails with an ASN1 error that says nothing of the key.
        var pem = ReadTlsFile(certificate, "--tls-cert") is var text && text.Contains("-----BEGIN ", StringComparison.Ordinal);
        if (pem && key == null && !text.Contains("PRIVATE KEY-----", StringComparison.Ordinal))
            throw new ArgumentException($"TLS certificate '{certificate}' is a PEM certificate without its private key: give the key with --tls-key KEY.pem (or serve a .pfx file, which holds both).");
        if (!pem && key != null)
            throw new ArgumentException($"TLS certificate '{certificate}' is not a PEM certificate, and --tls-key goes only with one; a .pfx file holds its own key: drop --tls-key (and give --tls-password-file if it has a password).");
        if (key != null && !File.Exists(key)) throw new ArgumentException($"TLS key '{key}' does not exist.");
        if (pem) // its key in --tls-key, or in the certificate's own file after it
            return LoadPem(certificate, key, key == null ? text : ReadTlsFile(key, "--tls-key"), password, passwordFlag);
        try
        {
            return X509CertificateLoader.LoadPkcs12FromFile(certificate, password);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw Unloadable(certificate, e);
        }
    }

    /// <summary>
    /// A TLS file's text; one the server's user may not read is the option's fault, not the machine's: .NET's "Access to
    /// the path is denied" named neither the option nor what to do.
    /// </summary>
    private static string ReadTlsFile(string path, string flag)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ArgumentException($"{flag} '{path}' cannot be read ({e.Message.TrimEnd('.')}): give a file the server's user may read.", e);
        }
    }

    /// <summary>
    /// The passphrase in a file, its first line without the line end, as systemd credentials and docker secrets hold one:
    /// --tls-password would show it in the process list to every local user.
    /// </summary>
    private static string PassphraseFromFile(string file)
    {
        if (Directory.Exists(file))
            throw new ArgumentException($"--tls-password-file '{file}' is a folder; give the file whose first line is the passphrase.");
        var line = ReadTlsFile(file, "--tls-password-file").Split('\n', 2)[0].TrimEnd('\r');
        return line.Length > 0 ? line
            : throw new ArgumentException($"--tls-password-file '{file}' has an empty first line; it must hold the passphrase (the line end is dropped, nothing else is), "
                                          + "and a .pfx without a password needs no --tls-password-file.");
    }

    private static ArgumentException Unloadable(string certificate, System.Security.Cryptography.CryptographicException e) =>
        new($"TLS certificate '{certificate}' cannot be loaded ({e.Message.TrimEnd('.')}); give a .pfx file (with its password), or a PEM certificate and its key.", e);

    /// <summary>
    /// A PEM certificate and its key, which may be encrypted (PKCS#8 "ENCRYPTED PRIVATE KEY", its passphrase in
    /// --tls-password). A wrong passphrase fails in the crypto library with words that name neither file nor flag.
    /// </summary>
    private static X509Certificate2 LoadPem(string certificate, string? key, string keyText, string? password, string passwordFlag)
    {
        var keyFile = key ?? certificate;
        var encrypted = keyText.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal);
        if (keyText.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
            throw new ArgumentException($"TLS key '{keyFile}' is encrypted in OpenSSL's legacy format (Proc-Type: 4,ENCRYPTED), which cannot be read here: "
                                        + $"convert it to PKCS#8 with openssl pkcs8 -topk8 -in {keyFile} -out key-pkcs8.pem, and give that with --tls-key and its passphrase with --tls-password-file.");
        if (encrypted && password == null)
            throw new ArgumentException($"TLS key '{keyFile}' is encrypted: give its passphrase with --tls-password-file FILE (its first line), or --tls-password.");
        if (!encrypted && password != null)
            throw new ArgumentException($"TLS key '{keyFile}' is not encrypted, and {passwordFlag} goes only with an encrypted key or a .pfx file: drop it.");
        try
        {
            return encrypted ? X509Certificate2.CreateFromEncryptedPemFile(certificate, password, key) : X509Certificate2.CreateFromPemFile(certificate, key);
        }
        catch (System.Security.Cryptography.CryptographicException e) when (Readable(keyText, password))
        {
            // .NET says the same words for a key that does not match as for one it cannot read: a right passphrase is not the fault.
            throw new ArgumentException($"TLS key '{keyFile}' is not the private key of certificate '{certificate}' (it reads, but its public key is another): "
                                        + "give the key the certificate was made for.", e);
        }
        catch (System.Security.Cryptography.CryptographicException e) when (encrypted)
        {
            throw new ArgumentException($"TLS key '{keyFile}' cannot be decrypted with the {passwordFlag} given ({e.Message.TrimEnd('.')}): give the passphrase it was encrypted with.", e);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw Unloadable(certificate, e);
        }
    }

    /// <summary>Whether the PEM text holds an RSA or EC private key that reads (with the passphrase, if one is given).</summary>
    private static bool Readable(string keyText, string? password)
    {
        foreach (var make in new Func<System.Security.Cryptography.AsymmetricAlgorithm>[] { System.Security.Cryptography.RSA.Create, System.Security.Cryptography.ECDsa.Create })
        {
            using var algorithm = make();
            try
            {
                if (password == null) algorithm.ImportFromPem(keyText);
                else algorithm.ImportFromEncryptedPem(keyText, password);
                return true;
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or ArgumentException) { } // not this kind, or not readable
        }
        return false;
    }
}
