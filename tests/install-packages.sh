#!/usr/bin/env bash
# Installs the Debian packages some tests drive for real: tmux (the TUI end-to-end test), and
# protoc with the gRPC plugin and Python's gRPC (the Python example client is generated from the
# proto and run against a real server). `make test` runs this first; it does nothing when all
# are installed.
set -euo pipefail
packages=(tmux protobuf-compiler protobuf-compiler-grpc libprotobuf-dev python3-grpcio python3-protobuf)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then sudo="sudo"; else
		echo "make test needs the Debian packages ${missing[*]}; install them as root: apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi
echo "installing ${missing[*]} for the tests..."
export DEBIAN_FRONTEND=noninteractive
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; }; then
	echo "make test needs the Debian packages ${missing[*]} and could not install them (apt-get failed above)" >&2
	exit 1
fi
