"""The channel the examples open to a charrnn server: plain HTTP/2 (h2c), or TLS with --tls-ca; and how they show a failed call."""


def add_tls_ca_argument(parser) -> None:
    parser.add_argument("--tls-ca", metavar="FILE", default=None,
                        help="connect with TLS, trusting the PEM certificate(s) in FILE (a self-signed server's "
                             "certificate, or its CA's); without it the connection is plain HTTP/2")


def open_channel(server: str, tls_ca: str | None):
    """A plain channel, or a TLS one that trusts only the roots in tls_ca; a file that is no PEM certificate is a usage error."""
    import grpc  # here, not at import: load_in_pytorch.py takes --tls-ca beside a file, where grpc is not needed

    if tls_ca is None:
        return grpc.insecure_channel(server)
    try:
        with open(tls_ca, "rb") as f:
            roots = f.read()
    except OSError as e:
        raise SystemExit(f"error: --tls-ca {tls_ca}: {e.strerror}; give a PEM certificate file")
    # gRPC would take any bytes and fail every call with a bare "handshake failed".
    if b"-----BEGIN CERTIFICATE-----" not in roots:
        raise SystemExit(f"error: --tls-ca {tls_ca} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
    return grpc.secure_channel(server, grpc.ssl_channel_credentials(root_certificates=roots))


def status_text(e) -> str:
    """A failed call as CODE: message (request ID): the id (the trailer charrnn-request-id) finds the call in the server's log."""
    request = next((value for key, value in (e.trailing_metadata() or ()) if key == "charrnn-request-id"), None)
    return f"{e.code().name}: {e.details()}" + (f" (request {request})" if request else "")
