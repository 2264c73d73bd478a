#!/usr/bin/env python3
"""Load a model written by `charrnn export` into PyTorch and continue a prime greedily (temperature 0).

    charrnn export lstm --out lstm.safetensors
    /usr/bin/python3 load_in_pytorch.py lstm.safetensors --prime "the meaning of " -n 100

or, from a charrnn server over gRPC (Catalog.ExportModel: the same file; ./generate_stubs.sh first, as the other examples):

    /usr/bin/python3 load_in_pytorch.py --server HOST:PORT --model lstm --prime "the meaning of " -n 100
    /usr/bin/python3 load_in_pytorch.py --server HOST:PORT --model lstm --checkpoint last --download-only lstm.safetensors

The download is checked against the size and SHA-256 the server sends before it is used or written
(--download-only writes through a temp file and a rename, and needs neither torch nor a model run).
Needs torch (Debian: apt-get install python3-torch); uses the `safetensors` package when it is installed,
else reads the file itself (the format is an 8-byte header length, a JSON header, then raw bytes).
The text is the one `charrnn generate MODEL -t 0 --prime ... -n ...` prints: same start state (zeros),
same masking (never the padding or unknown symbol), argmax ties to the lowest index.
Only the stream models (stateful-rnn, stateful-gru, stateful-lstm and the -cell ones) load into torch.nn;
a windowed model's file (char3, loop, loop-concat, rnn, seq-rnn) keeps the engine's names and is refused here,
as is a file that cannot be read or that charrnn export did not write (one line on stderr, exit 2).

The way back: --save FILE writes the model's weights, after any --scale NAME=FACTOR (e.g. l_out.bias=0), as a
.safetensors file with the exported file's metadata kept, which `charrnn import FILE --name NAME` makes a model of:

    /usr/bin/python3 load_in_pytorch.py lstm.safetensors --scale l_out.bias=0 --save changed.safetensors --prime "the " -n 60
    charrnn import changed.safetensors --name lstm-changed && charrnn generate lstm-changed -t 0 --prime "the " -n 60

With --server, --upload NAME also sends the --save'd file back to the server as a new model of your key's
(Catalog.ImportModel, 1 MiB pieces; the server checks it as charrnn import does):

    /usr/bin/python3 load_in_pytorch.py --server HOST:PORT --model lstm --scale l_out.bias=0 --save changed.safetensors --upload lstm-changed -n 60

Your own code does the same with write_safetensors(path, model.state_dict(), metadata) below, or with the package:
safetensors.torch.save_file(model.state_dict(), path, metadata=metadata) (the metadata as read: import needs its keys).
"""
import argparse
import hashlib
import json
import os
import struct
import sys
import tempfile

from channel import add_tls_ca_argument, status_text


def download(args, out_path: str) -> str:
    """Catalog.ExportModel into out_path, through a temp file renamed only once the size (first message) and SHA-256 (last) match; the checkpoint's file name."""
    import grpc
    from channel import open_channel
    from charrnn.v1 import charrnn_pb2 as pb
    from charrnn.v1 import charrnn_pb2_grpc as rpc

    auth = [("authorization", f"Bearer {args.token}")] if args.token else None
    folder = os.path.dirname(os.path.abspath(out_path))
    handle, temp = tempfile.mkstemp(prefix=f".{os.path.basename(out_path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as f, open_channel(args.server, args.tls_ca) as channel:
            digest, received, first, last = hashlib.sha256(), 0, None, None
            request = pb.ExportModelRequest(name=args.model, checkpoint=args.checkpoint)
            for chunk in rpc.CatalogStub(channel).ExportModel(request, metadata=auth):
                first = first or chunk
                last = chunk  # total_bytes comes in the first message, sha256 in the last
                digest.update(chunk.data)
                f.write(chunk.data)
                received += len(chunk.data)
            if first is None:
                raise SystemExit(f"error: the server sent nothing for model '{args.model}'")
            if received != first.total_bytes or digest.hexdigest() != last.sha256:
                raise SystemExit(f"error: the download of '{args.model}' is damaged ({received} bytes, SHA-256 {digest.hexdigest()}; "
                                 f"the server announced {first.total_bytes} bytes, {last.sha256}); nothing was written")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, out_path)
        return first.checkpoint
    except grpc.RpcError as e:
        raise SystemExit(f"error: {status_text(e)}")
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def upload(args, path: str) -> None:
    """Catalog.ImportModel: the file at path sent as model args.upload (a header with its size, then 1 MiB pieces); the server stores all of it or nothing."""
    import grpc
    from channel import open_channel
    from charrnn.v1 import charrnn_pb2 as pb
    from charrnn.v1 import charrnn_pb2_grpc as rpc

    auth = [("authorization", f"Bearer {args.token}")] if args.token else None
    size = os.path.getsize(path)

    def messages():
        yield pb.ImportModelRequest(header=pb.ImportModelHeader(name=args.upload, total_bytes=size, file_name=os.path.basename(path)))
        with open(path, "rb") as f:
            while piece := f.read(1 << 20):
                yield pb.ImportModelRequest(data=piece)

    try:
        with open_channel(args.server, args.tls_ca) as channel:
            model = rpc.CatalogStub(channel).ImportModel(messages(), metadata=auth)
    except grpc.RpcError as e:
        raise SystemExit(f"error: {status_text(e)}")
    print(f"imported {path} ({size} bytes) as model {model.name} on {args.server}: {model.architecture}, {model.parameter_count} parameters", file=sys.stderr)


class Refused(Exception):
    """A file or flag this script cannot use: said in one line (exit 2), not a traceback."""


def read_safetensors(path):
    """(state_dict, metadata): with the safetensors package when installed, else by hand."""
    import torch
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise Refused(f"{path}: cannot be read: {e.strerror}")
    # Checked here whichever reader follows: a file of something else must not be read as a huge header.
    if raw.startswith(b"CHARRNN-CKPT\n"):
        raise Refused(f"{path}: a charrnn checkpoint (a model's .ckpt), not a .safetensors file; write one from it with charrnn export {path} --out FILE.safetensors")
    if len(raw) < 8:
        raise Refused(f"{path}: not a safetensors file ({len(raw)} bytes, fewer than the 8 that give its header's length); write one with charrnn export")
    (length,) = struct.unpack("<Q", raw[:8])
    if length > len(raw) - 8:
        raise Refused(f"{path}: not a safetensors file (its first 8 bytes give a header longer than the file); write one with charrnn export")
    try:
        header = json.loads(raw[8:8 + length])
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise Refused(f"{path}: not a safetensors file (its header is not a JSON object); write one with charrnn export")
    if "charrnn_export_version" not in header.get("__metadata__", {}):
        raise Refused(f"{path}: a safetensors file, but not one charrnn export wrote (no charrnn_export_version in its metadata)")
    try:
        need = max((int(entry["data_offsets"][1]) for name, entry in header.items() if name != "__metadata__"), default=0)
    except (TypeError, KeyError, IndexError, ValueError):
        raise Refused(f"{path}: not a safetensors file (a header entry has no data_offsets [begin, end]); write one with charrnn export")
    if need > len(raw) - 8 - length:  # a copy cut short: neither reader says so in one line
        raise Refused(f"{path}: truncated: its tensors need {need} bytes of data, but the file has {len(raw) - 8 - length} after its header; export it again")
    try:
        from safetensors import safe_open
        with safe_open(path, framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
    except ImportError:
        pass
    data = raw[8 + length:]
    metadata = header.pop("__metadata__", {})
    tensors = {}
    dtypes = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}  # as charrnn import takes them
    for name, entry in header.items():
        if entry["dtype"] not in dtypes:
            raise Refused(f"{path}: tensor {name} has dtype {entry['dtype']}; the weights must be one of {', '.join(dtypes)}")
        begin, end = entry["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=dtypes[entry["dtype"]]).reshape(entry["shape"]).float()
    return tensors, metadata


def write_safetensors(path: str, tensors, metadata) -> None:
    """The file read_safetensors reads (and charrnn import): with the safetensors package when installed, else by hand:
    an 8-byte header length, the JSON header padded with spaces to a multiple of 8, then each tensor's F32 bytes in
    little-endian order, back to back. Written to a temp file and renamed, so a reader never sees half a file."""
    import torch
    tensors = {name: t.detach().to(torch.float32).contiguous() for name, t in tensors.items()}
    try:
        from safetensors.torch import save_file
        save_file(tensors, path, metadata=dict(metadata))
        return
    except ImportError:
        pass
    header, data, offset = {"__metadata__": dict(metadata)}, [], 0
    for name in sorted(tensors):
        raw = tensors[name].numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(raw)]}
        data.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    handle, temp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(struct.pack("<Q", len(encoded)))
            f.write(encoded)
            for raw in data:
                f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def lower_as_engine(text: str) -> str:
    """The prime lowercased as the engine lowercases a --lower model's text (.NET's ToLowerInvariant): character by
    character, each to one character by Unicode's simple mapping, so the ids are the ones the model was trained on.
    Python's str.lower differs in two ways: it maps 'İ' (U+0130) to two characters, 'i' and a combining dot, where
    .NET keeps 'İ' (a character whose lowercase is not one character is kept as it is), and it makes a final 'Σ' 'ς'
    where .NET gives 'σ' everywhere (so each character is lowered alone). 'ẞ' is 'ß' in both. A character newer than
    this Python's Unicode tables is kept as it is, where a newer .NET may lower it."""
    return "".join(lowered if len(lowered := c.lower()) == 1 else c for c in text)


def char_model(module: str, vocab: int, n_fac: int, n_hidden: int, layers: int, dropout: float):
    """The engine's stream models in torch.nn (the modules of bench/pytorch_reference.py): e, rnn, drop, l_out.
    Built here, not at import, so that --download-only runs without torch."""
    import torch.nn as nn

    class CharModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.e = nn.Embedding(vocab, n_fac)
            kwargs = {"dropout": dropout} if layers > 1 else {}  # between layers, as the engine's nn.RNN/GRU/LSTM have it (torch warns of one layer's)
            self.rnn = getattr(nn, module)(n_fac, n_hidden, layers, **kwargs)
            self.drop = nn.Dropout(dropout)
            self.l_out = nn.Linear(n_hidden, vocab)

        def forward(self, x, h):
            out, h = self.rnn(self.e(x), h)
            return self.l_out(self.drop(out)), h

    return CharModel()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", help="a .safetensors file written by charrnn export (or give --server and --model)")
    parser.add_argument("--prime", default="", help="text the model continues")
    parser.add_argument("-n", "--chars", type=str, default="100", help="characters to generate (0 or more)")
    parser.add_argument("--scale", action="append", default=[], metavar="NAME=FACTOR",
                        help="multiply one weight by FACTOR before generating (e.g. l_out.bias=0); repeatable")
    parser.add_argument("--save", metavar="FILE", help="write the weights (after --scale) with the metadata kept, for charrnn import")
    server = parser.add_argument_group("from a charrnn server (Catalog.ExportModel) instead of a file")
    server.add_argument("--server", metavar="HOST:PORT", help="the charrnn server to download the weights from")
    add_tls_ca_argument(server)
    server.add_argument("--token", default=os.environ.get("CHARRNN_TOKEN"),
                        help="API key of a server started with --keys (default: $CHARRNN_TOKEN)")
    server.add_argument("--model", help="model name (see ListModels)")
    server.add_argument("--checkpoint", default="best", help="best (default: the one generation uses), last, or cycle-N")
    server.add_argument("--download-only", metavar="FILE", help="write the downloaded .safetensors file to FILE and stop (no torch needed)")
    server.add_argument("--upload", metavar="NAME", help="send the --save'd file back to the server as a new model NAME (Catalog.ImportModel)")
    args = parser.parse_args()
    if not args.chars.isdigit():
        parser.error(f"-n/--chars: {args.chars} is not a whole number of at least 0")
    args.chars = int(args.chars)
    if args.server is None:
        if args.file is None:
            parser.error("give a .safetensors file, or --server HOST:PORT --model NAME")
        if args.model or args.download_only or args.tls_ca or args.upload:
            parser.error("--model, --download-only, --upload and --tls-ca go with --server")
    else:
        if args.file is not None:
            parser.error(f"give a file or --server, not both (the file '{args.file}' would not be read)")
        if not args.model:
            parser.error("--server needs --model NAME")
        if args.download_only and not args.download_only.endswith(".safetensors"):
            parser.error(f"--download-only '{args.download_only}' does not end in .safetensors")
        if args.download_only and os.path.isdir(args.download_only):
            parser.error(f"--download-only '{args.download_only}' is a folder; give the file to write")

    if args.save and not args.save.endswith(".safetensors"):
        parser.error(f"--save '{args.save}' does not end in .safetensors")
    if args.upload and not args.save:
        parser.error("--upload NAME sends the --save'd file: give --save FILE too")
    if args.upload and args.download_only:
        parser.error("--upload goes with a model run (--save FILE), not --download-only")
    for scale in args.scale:
        name, _, factor = scale.partition("=")
        try:
            float(factor)
        except ValueError:
            parser.error(f"--scale '{scale}' is not NAME=FACTOR (e.g. l_out.bias=0)")

    if args.download_only:
        checkpoint = download(args, args.download_only)
        print(f"downloaded {args.model} ({checkpoint}) to {args.download_only}: {os.path.getsize(args.download_only)} bytes, SHA-256 checked")
        return 0
    if args.server is not None:
        with tempfile.TemporaryDirectory() as folder:
            args.file = os.path.join(folder, f"{args.model}.safetensors")
            download(args, args.file)
            return run(args)
    return run(args)


def run(args) -> int:
    """Loads args.file into torch.nn and prints the prime continued greedily."""
    import torch

    try:
        weights, meta = read_safetensors(args.file)
    except Refused as e:
        print(e, file=sys.stderr)
        return 2
    module = meta.get("torch_module", "")
    if not module:
        source = args.file if args.server is None else f"model '{args.model}' on {args.server}"
        print(f"{source}: a {meta.get('architecture')} model (windowed) has no torch.nn module here; "
              "the stream models load: stateful-rnn, stateful-rnn-cell, stateful-gru, stateful-gru-cell, stateful-lstm", file=sys.stderr)
        return 2
    hp = json.loads(meta["hyperparameters"])
    vocab = json.loads(meta["vocab"])  # index order; 0 is padding ("\0"), 1 the unknown symbol when unknown_index is "1"
    unknown = int(meta["unknown_index"]) if meta["unknown_index"] else None
    layers = int(hp.get("layers", 1))
    model = char_model(module, len(vocab), int(hp["n_fac"]), int(hp["n_hidden"]), layers, hp.get("dropout", 0.0))
    try:
        model.load_state_dict(weights, strict=True)
    except RuntimeError as e:  # torch's several lines (missing or unexpected keys, size mismatches) said as one
        said = "; ".join(line.strip().rstrip(".") for line in str(e).splitlines()[1:] if line.strip())
        print(f"{args.file}: its weights do not fit the {meta.get('architecture')} its metadata describes "
              f"({meta['hyperparameters']}, a vocabulary of {len(vocab)}): {said}", file=sys.stderr)
        return 2
    model.eval()
    state = model.state_dict()
    for scale in args.scale:
        name, _, factor = scale.partition("=")
        if name not in state:
            print(f"--scale: no weight '{name}'; the model has {', '.join(sorted(state))}", file=sys.stderr)
            return 2
        with torch.no_grad():
            state[name].mul_(float(factor))  # the module's own tensor: generation below uses the change
    if args.save:
        write_safetensors(args.save, model.state_dict(), meta)
        print(f"saved the weights{' as scaled' if args.scale else ''} with the export's metadata to {args.save} (charrnn import {args.save} --name NAME)", file=sys.stderr)
        if args.upload:
            upload(args, args.save)

    index = {c: i for i, c in enumerate(vocab)}
    prime = lower_as_engine(args.prime) if meta["lowercase"] == "true" else args.prime
    ids = [index.get(c, unknown) for c in prime]
    if None in ids:
        print(f"--prime: {sorted({c for c in prime if c not in index})} are not in the model's vocabulary", file=sys.stderr)
        return 2

    zeros = lambda: torch.zeros(layers, 1, int(hp["n_hidden"]))
    h = (zeros(), zeros()) if module == "LSTM" else zeros()
    with torch.no_grad():
        if ids:
            logits, h = model(torch.tensor(ids).view(-1, 1), h)
            next_logits = logits[-1, 0]
        else:  # no prime: the first char is the corpus's commonest, as the engine starts
            counts = torch.tensor(json.loads(meta["vocab_counts"]), dtype=torch.float64)
            next_logits = counts.log()
        text = []
        for _ in range(args.chars):
            next_logits[0] = float("-inf")  # never padding, nor the unknown symbol
            if unknown is not None:
                next_logits[unknown] = float("-inf")
            char = int(torch.argmax(next_logits))
            text.append(vocab[char])
            logits, h = model(torch.tensor([[char]]), h)
            next_logits = logits[-1, 0]
    print(prime + "".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
