#!/usr/bin/env bash
# Generates the Python gRPC stubs from the project's proto with Debian's protoc and gRPC plugin
# (packages protobuf-compiler, protobuf-compiler-grpc). Output: ./charrnn/v1/charrnn_pb2*.py
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
protos=$here/../../protos
plugin=$(command -v grpc_python_plugin || true)
if [ -z "$plugin" ]; then
	echo "grpc_python_plugin not found: install protobuf-compiler-grpc (and python3-grpcio python3-protobuf)" >&2
	exit 2
fi
mkdir -p "$out"
protoc -I "$protos" --python_out="$out" --grpc_python_out="$out" --plugin=protoc-gen-grpc_python="$plugin" \
	"$protos/charrnn/v1/charrnn.proto"
echo "stubs written to $out/charrnn/v1"
