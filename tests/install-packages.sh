#!/usr/bin/env bash
# Installs the Debian packages some tests drive for real: tmux (the TUI end-to-end test), and
# protoc with the gRPC plugin and Python's gRPC (the Python example client is generated from the
# proto and run against a real server). `make test` runs this first; it does nothing when all
# are installed, and stops `make test` when it cannot install them.
exec bash "$(dirname "$0")/../scripts/install-debian-packages.sh" "the tests" \
	tmux protobuf-compiler protobuf-compiler-grpc libprotobuf-dev python3-grpcio python3-protobuf
