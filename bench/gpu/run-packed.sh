#!/usr/bin/env bash
# The benchmark suite on a CUDA host that has PyTorch (built with CUDA) but no .NET SDK or NuGet
# access: unpacks what pack.sh made, runs it on the host's own libtorch, and prints the tables last.
#   bash bench/gpu/run-packed.sh [pack folder, default .gpu] [charrnn-bench arguments...]
# Environment: BENCH_GPU_OUT (results and logs; default artifacts/bench-gpu), PYTHON (the Python
# whose torch is used, default python3), BENCH_GPU_SECTIONS (default gemm+training generation
# invariance server: each '+' group is one charrnn-bench run; GROUP:SECONDS limits that run),
# BENCH_GPU_SECTION_LIMIT (seconds for a run without its own, default 1800), BENCH_GPU_DEVICE (default cuda; cuda:N picks a GPU).
#
# TorchSharp 0.107.0's libLibTorchSharp.so was built against libtorch 2.10.0. This loads it with
# the host's libtorch, which can be another version: the script lists the symbols it needs that
# the host's libtorch lacks (those calls would fail), and the smoke test trains and samples
# before anything is measured.
set -uo pipefail
cd "$(dirname "$0")/../.."
pack=${1:-.gpu}
[ $# -gt 0 ] && shift
out=${BENCH_GPU_OUT:-artifacts/bench-gpu}
python=${PYTHON:-python3}
limit=${BENCH_GPU_SECTION_LIMIT:-1800}
device=${BENCH_GPU_DEVICE:-cuda}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "unpacking $pack/charrnn-gpu.tar.xz"
tar -C "$work" -xJf "$pack/charrnn-gpu.tar.xz" || exit 1
app=$work/charrnn-gpu

say "host"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
torchlib=$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))') ||
	{ echo "$python has no torch: this script needs a PyTorch built with CUDA" >&2; exit 1; }
"$python" -c 'import torch; print("PyTorch", torch.__version__, "· CUDA", torch.version.cuda, "· GPU visible:", torch.cuda.is_available())'
echo "libtorch folder: $torchlib"

say "symbols libLibTorchSharp.so (built for libtorch 2.10.0) needs that this libtorch lacks"
if command -v nm > /dev/null; then
	# Strong, unversioned undefined symbols: libtorch's (weak ones, such as TLS init functions, may be absent).
	nm -D --undefined-only "$app/libLibTorchSharp.so" | awk '$1 == "U" && $2 !~ /@/ {print $2}' | sort -u > "$work/needs"
	for l in "$torchlib"/lib{torch,torch_cpu,torch_cuda,c10,c10_cuda}.so; do [ -f "$l" ] && nm -D --defined-only "$l"; done |
		awk '{print $3}' | sed 's/@.*//' | sort -u > "$work/has"
	comm -23 "$work/needs" "$work/has" > "$out/missing-symbols.txt"
	echo "$(wc -l < "$out/missing-symbols.txt") of $(wc -l < "$work/needs") (list: missing-symbols.txt)"
	c++filt < "$out/missing-symbols.txt" | cut -c1-160 | head -25
else
	echo "nm is not installed: not checked"
fi

# The host's libtorch (and, through its RUNPATH, its CUDA libraries) before anything else.
export LD_LIBRARY_PATH="$torchlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
ldconfig -p 2>/dev/null | grep -q libicuuc || export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
export CHARRNN_CACHE_DIR="$work/cache" CHARRNN_HISTORY=""
mkdir -p "$CHARRNN_CACHE_DIR" && cp "$pack/nietzsche.txt" "$CHARRNN_CACHE_DIR/"

say "smoke: charrnn train and generate on $device"
{
	time timeout 120 "$app/charrnn" train --arch stateful-lstm --device "$device" --lower --max-steps 300 --sample-chars 0 --out "$work/models/lstm"
	time timeout 60 "$app/charrnn" generate --model "$work/models/lstm" --device "$device" -n 200 --seed 1
} > "$out/smoke.log" 2>&1
tail -20 "$out/smoke.log"

for entry in ${BENCH_GPU_SECTIONS:-gemm+training generation invariance server}; do
	group=${entry%%:*}
	sections=${group//+/,}
	seconds=$limit
	[ "$entry" != "$group" ] && seconds=${entry#*:}
	say "charrnn-bench --only $sections"
	timeout "$seconds" "$app/charrnn-bench" --device "$device" --python "$python" --threads 4 --only "$sections" \
		--out "$out/results-gpu-${group//+/-}.md" "$@" 2>&1 | tee -a "$out/bench.log" | grep -v '^    run '
	echo "exit ${PIPESTATUS[0]}"
	pkill -f "$app/charrnn" 2>/dev/null # a run stopped at its limit leaves its server and client processes
done

say "tables"
cat "$out"/results-gpu-*.md 2>/dev/null
