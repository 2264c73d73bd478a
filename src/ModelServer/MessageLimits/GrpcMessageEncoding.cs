using System.Text;

namespace CharRnn.ModelServer.MessageLimits;

/// <summary>
/// A grpc-message header's value as the gRPC HTTP/2 spec has it: printable ASCII (0x20–0x7E) as is, but '%', and
/// every other character as its UTF-8 bytes percent-encoded. Clients decode only that much (grpc-js with decodeURI,
/// which leaves "%2C" alone): escaping ',' ';' or ':' too would show them to the user as "%2C" "%3B" "%3A".
/// </summary>
public static class GrpcMessageEncoding
{
    public static string Encode(string message)
    {
        var encoded = new StringBuilder(message.Length);
        Span<byte> bytes = stackalloc byte[4];
        for (var i = 0; i < message.Length; i++)
        {
            var c = message[i];
            if (c is >= ' ' and <= '~' and not '%')
            {
                encoded.Append(c);
                continue;
            }
            // A surrogate pair is one character of up to 4 bytes; a lone surrogate becomes U+FFFD's bytes.
            var length = char.IsHighSurrogate(c) && i + 1 < message.Length && char.IsLowSurrogate(message[i + 1])
                ? Encoding.UTF8.GetBytes(message.AsSpan(i++, 2), bytes)
                : Encoding.UTF8.GetBytes(message.AsSpan(i, 1), bytes);
            foreach (var b in bytes[..length]) encoded.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return encoded.ToString();
    }
}
