#!/usr/bin/env python3
"""Load a model written by `charrnn export` into PyTorch and continue a prime greedily (temperature 0).

    charrnn export lstm --out lstm.safetensors
    /usr/bin/python3 load_in_pytorch.py lstm.safetensors --prime "the meaning of " -n 100

Needs torch (Debian: apt-get install python3-torch); uses the `safetensors` package when it is installed,
else reads the file itself (the format is an 8-byte header length, a JSON header, then raw bytes).
The text is the one `charrnn generate MODEL -t 0 --prime ... -n ...` prints: same start state (zeros),
same masking (never the padding or unknown symbol), argmax ties to the lowest index.
Only the stream models (stateful-rnn, stateful-gru, stateful-lstm and the -cell ones) load into torch.nn;
a windowed model's file (char3, loop, loop-concat, rnn, seq-rnn) keeps the engine's names and is refused here.
"""
import argparse
import json
import struct
import sys

import torch
import torch.nn as nn


def read_safetensors(path):
    """(state_dict, metadata): with the safetensors package when installed, else by hand."""
    try:
        from safetensors import safe_open
        with safe_open(path, framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}, f.metadata()
    except ImportError:
        pass
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    metadata = header.pop("__metadata__", {})
    tensors = {}
    for name, entry in header.items():
        assert entry["dtype"] == "F32", f"{name}: dtype {entry['dtype']} (charrnn exports F32)"
        begin, end = entry["data_offsets"]
        tensors[name] = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(entry["shape"])
    return tensors, metadata


class CharModel(nn.Module):
    """The engine's stream models in torch.nn (the modules of bench/pytorch_reference.py): e, rnn, drop, l_out."""

    def __init__(self, module: str, vocab: int, n_fac: int, n_hidden: int, layers: int, dropout: float):
        super().__init__()
        self.e = nn.Embedding(vocab, n_fac)
        kwargs = {"dropout": dropout} if module == "LSTM" and layers > 1 else {}
        self.rnn = getattr(nn, module)(n_fac, n_hidden, layers, **kwargs)
        self.drop = nn.Dropout(dropout)
        self.l_out = nn.Linear(n_hidden, vocab)

    def forward(self, x, h):
        out, h = self.rnn(self.e(x), h)
        return self.l_out(self.drop(out)), h


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="a .safetensors file written by charrnn export")
    parser.add_argument("--prime", default="", help="text the model continues")
    parser.add_argument("-n", "--chars", type=int, default=100, help="characters to generate")
    args = parser.parse_args()

    weights, meta = read_safetensors(args.file)
    module = meta.get("torch_module", "")
    if not module:
        print(f"{args.file}: a {meta.get('architecture')} model (windowed) has no torch.nn module here; "
              "the stream models load: stateful-rnn, stateful-rnn-cell, stateful-gru, stateful-gru-cell, stateful-lstm", file=sys.stderr)
        return 2
    hp = json.loads(meta["hyperparameters"])
    vocab = json.loads(meta["vocab"])  # index order; 0 is padding ("\0"), 1 the unknown symbol when unknown_index is "1"
    unknown = int(meta["unknown_index"]) if meta["unknown_index"] else None
    layers = int(hp.get("layers", 1))
    model = CharModel(module, len(vocab), int(hp["n_fac"]), int(hp["n_hidden"]), layers, hp.get("dropout", 0.0))
    model.load_state_dict(weights, strict=True)
    model.eval()

    index = {c: i for i, c in enumerate(vocab)}
    prime = args.prime.lower() if meta["lowercase"] == "true" else args.prime
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
