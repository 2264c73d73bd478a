#!/usr/bin/env bash
# The benchmark suite on a CUDA host, in one go: builds the CUDA variant (TorchSharp-cuda-linux),
# publishes it self-contained, and runs the suite on the GPU; the table prints last.
# Needs the .NET 10 SDK and NuGet access on that host. Never part of `make test`.
#   bash bench/gpu/run.sh [extra charrnn-bench arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."
out=artifacts/bench-gpu
dotnet publish bench/Bench/Bench.csproj -c Release -r linux-x64 --self-contained -p:TorchBackend=cuda -o "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
# The corpus: the cache, the shared copy, or a download by the engine.
cache="${CHARRNN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/charrnn}" # the engine's rule (CorpusResolver)
if [ -f ../shared/data/nietzsche.txt ] && [ ! -f "$cache/nietzsche.txt" ]; then
	mkdir -p "$cache" && install -m 0644 ../shared/data/nietzsche.txt "$cache/nietzsche.txt"
fi
"$out/charrnn-bench" --device cuda --threads "$(nproc)" --only gemm,training,generation,invariance,server --out bench/results-gpu.md "$@"
cat bench/results-gpu.md
