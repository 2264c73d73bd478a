#!/usr/bin/env bash
# Packs charrnn and charrnn-bench for a CUDA host that has PyTorch but no .NET SDK and no NuGet
# access (a locked-down GPU machine): both self-contained for linux-x64, without libtorch, which
# run-packed.sh takes from the host's PyTorch. Runs here, on the CPU build machine.
#   bash bench/gpu/pack.sh [folder]      (default .gpu; writes charrnn-gpu.tar.xz and nietzsche.txt)
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=${1:-.gpu}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
app="$stage/charrnn-gpu"
# Both into one folder: they share the runtime and every library; each keeps its own deps.json.
dotnet publish src/Tui/Tui.csproj -c Release -r linux-x64 --self-contained -o "$app" --nologo -v quiet
dotnet publish bench/Bench/Bench.csproj -c Release -r linux-x64 --self-contained -o "$app" --nologo -v quiet
# libtorch (CPU) is ~500 MB and the host's CUDA build replaces it; libLibTorchSharp.so stays.
find "$app" -maxdepth 1 \( -name 'libtorch*.so' -o -name 'libc10*.so' -o -name 'libgomp-*.so*' -o -name 'libshm.so' \
	-o -name 'libaoti_custom_ops.so' -o -name 'libbackend_with_compiler.so' -o -name 'libjitbackend_test.so' \
	-o -name 'libnnapi_backend.so' -o -name 'libmscordaccore.so' -o -name 'libmscordbi.so' -o -name 'createdump' \) -delete
mkdir -p "$dest"
tar -C "$stage" -cf - charrnn-gpu | xz -T0 -6 > "$dest/charrnn-gpu.tar.xz.tmp"
mv "$dest/charrnn-gpu.tar.xz.tmp" "$dest/charrnn-gpu.tar.xz"
corpus="${CHARRNN_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/charrnn}/nietzsche.txt"
[ -f "$corpus" ] || corpus=../shared/data/nietzsche.txt
[ -f "$corpus" ] || { echo "pack.sh: no nietzsche.txt in the corpus cache or ../shared/data; 'make corpus' or one 'charrnn train' puts it there" >&2; exit 1; }
cp "$corpus" "$dest/nietzsche.txt"
du -h "$dest"/*
