#!/usr/bin/env bash
# Installs the PyTorch reference the benchmarks compare against: Debian's python3-torch, and
# OpenBLAS (python3-torch otherwise uses the reference BLAS, ~33x slower at matrix products).
set -euo pipefail
missing=()
for p in python3-torch libopenblas0-openmp; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]} for the PyTorch reference..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq || true
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" || echo "could not install ${missing[*]}: the benchmarks run without the PyTorch reference" >&2
