#!/usr/bin/env python3
"""The PyTorch side of `make bench`: the same models, sizes, Adam step and truncated-BPTT stream
layout as the engine, timed the same way. Prints one JSON object.

    python3 pytorch_reference.py train --arch lstm --bs 64 --bptt 8 --threads 2 --seconds 3 --corpus nietzsche.txt
    python3 pytorch_reference.py generate --arch lstm --batch 64 --threads 2 --seconds 2
    python3 pytorch_reference.py train --arch lstm --device cuda ...     (a GPU host's own PyTorch)

Debian's python3-torch links the reference BLAS by default (~33x slower at matrix products than
OpenBLAS); the bench installs libopenblas0-openmp and this script reports which BLAS the process
actually mapped, so a meaningless comparison is visible.
"""
import argparse
import json
import time

import torch
import torch.nn as nn


def blas_in_use() -> str:
    with open("/proc/self/maps") as maps:
        libs = {line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line}
    return ", ".join(sorted(libs)) or "none mapped"


class CharModel(nn.Module):
    def __init__(self, arch: str, vocab: int, n_fac: int, n_hidden: int, layers: int, dropout: float):
        super().__init__()
        self.e = nn.Embedding(vocab, n_fac)
        rnn = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[arch]
        kwargs = {"dropout": dropout} if arch == "lstm" and layers > 1 else {}
        self.rnn = rnn(n_fac, n_hidden, layers, **kwargs)
        self.drop = nn.Dropout(dropout if arch == "lstm" else 0.0)
        self.l_out = nn.Linear(n_hidden, vocab)

    def forward(self, x, h):
        out, h = self.rnn(self.e(x), h)
        return self.l_out(self.drop(out)), h


def init_hidden(arch, layers, bs, n_hidden, device):
    z = lambda: torch.zeros(layers, bs, n_hidden, device=device)
    return (z(), z()) if arch == "lstm" else z()


def detach(h):
    return tuple(t.detach() for t in h) if isinstance(h, tuple) else h.detach()


def sizes(arch):
    # The lesson's: n_fac 42; n_hidden 256 (LSTM 512, 2 layers, dropout 0.5).
    return (42, 512, 2, 0.5) if arch == "lstm" else (42, 256, 1, 0.0)


def train(args):
    text = open(args.corpus, encoding="utf-8").read().lower()
    chars = sorted(set(text))
    index = {c: i + 1 for i, c in enumerate(chars)}  # 0 is padding, as in the engine
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    vocab = len(chars) + 1
    n_fac, n_hidden, layers, dropout = sizes(args.arch)
    length = len(ids) // args.bs
    data = ids[: length * args.bs].view(args.bs, length).t().contiguous().to(args.device)  # [L, bs]: bs contiguous streams
    model = CharModel(args.arch, vocab, n_fac, n_hidden, layers, dropout).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    h = init_hidden(args.arch, layers, args.bs, n_hidden, args.device)
    position = 0

    def step():
        nonlocal h, position
        if position + args.bptt + 1 > length:
            position, h = 0, init_hidden(args.arch, layers, args.bs, n_hidden, args.device)
        x = data[position: position + args.bptt]
        y = data[position + 1: position + 1 + args.bptt]
        position += args.bptt
        h = detach(h)
        logits, h = model(x, h)
        loss = loss_fn(logits.view(-1, vocab), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    steps, elapsed = timed(step, args.warmup, args.seconds, args.device)
    return {"chars_per_second": steps * args.bs * args.bptt / elapsed, "steps": steps, "seconds": elapsed}


def timed(step, warmup, seconds, device):
    """Runs step() warmup times, then for at least `seconds` and 3 steps: (steps, elapsed seconds)."""
    # CUDA runs queued work later: the clock is read only once the device has caught up.
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    for _ in range(warmup):
        step()
    sync()
    steps, start = 0, time.perf_counter()
    while True:
        step()
        steps += 1
        if time.perf_counter() - start >= seconds and steps >= 3:
            sync()
            return steps, time.perf_counter() - start


def generate(args):
    vocab = args.vocab
    n_fac, n_hidden, layers, dropout = sizes(args.arch)
    model = CharModel(args.arch, vocab, n_fac, n_hidden, layers, dropout).to(args.device).eval()
    h = init_hidden(args.arch, layers, args.batch, n_hidden, args.device)
    ids = torch.ones(1, args.batch, dtype=torch.long, device=args.device)
    generator = torch.Generator(device=args.device).manual_seed(1)

    def step():
        nonlocal h, ids
        logits, h = model(ids, h)
        probs = torch.softmax(logits[0] / 0.8, dim=-1)
        ids = torch.multinomial(probs, 1, generator=generator).view(1, -1)
        ids.tolist()  # the sampled ids reach the host, as each char must

    with torch.no_grad():
        steps, elapsed = timed(step, args.warmup, args.seconds, args.device)
    return {"seconds_per_step": elapsed / steps, "chars_per_second": steps * args.batch / elapsed, "steps": steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["train", "generate"])
    parser.add_argument("--arch", choices=["rnn", "gru", "lstm"], required=True)
    parser.add_argument("--bs", type=int, default=64)
    parser.add_argument("--bptt", type=int, default=8)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--vocab", type=int, default=58, help="generate: the engine model's vocabulary (58: lowercased Nietzsche and padding)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--corpus", default="")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (a PyTorch built with CUDA)")
    args = parser.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error(f"--device {args.device}: this PyTorch ({torch.__version__}) has no CUDA or sees no GPU")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    result = train(args) if args.mode == "train" else generate(args)
    result.update({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_in_use(), "device": args.device})
    print(json.dumps(result))


if __name__ == "__main__":
    main()
