#!/usr/bin/env bash
# Installs the PyTorch reference the benchmarks compare against: Debian's python3-torch, and
# OpenBLAS (python3-torch otherwise uses the reference BLAS, ~33x slower at matrix products).
# The benchmarks still run when it cannot be installed, without the PyTorch columns.
bash "$(dirname "$0")/../scripts/install-debian-packages.sh" "the PyTorch reference" python3-torch libopenblas0-openmp ||
	echo "the benchmarks run without the PyTorch reference" >&2
