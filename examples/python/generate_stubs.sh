#!/usr/bin/env bash
# Generates the Python gRPC stubs from the project's proto with Debian's protoc and gRPC plugin
# (packages protobuf-compiler, protobuf-compiler-grpc, and libprotobuf-dev for the
# google/protobuf/timestamp.proto it imports). Output: ./charrnn/v1/charrnn_pb2*.py
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
protos=$here/../../protos
protoc=$(command -v protoc || true)
if [ -z "$protoc" ]; then
	echo "protoc not found: install protobuf-compiler" >&2
	exit 2
fi
plugin=$(command -v grpc_python_plugin || true)
if [ -z "$plugin" ]; then
	echo "grpc_python_plugin not found: install protobuf-compiler-grpc (and python3-grpcio python3-protobuf)" >&2
	exit 2
fi
# protoc finds the well-known types in the include folder beside its own (/usr/include on Debian);
# a protoc that is a wrapper elsewhere has none there, so /usr/include is tried too.
include=$(cd "$(dirname "$(readlink -f "$protoc")")/.." && pwd)/include
[ -f "$include/google/protobuf/timestamp.proto" ] || include=/usr/include
if [ ! -f "$include/google/protobuf/timestamp.proto" ]; then
	echo "google/protobuf/timestamp.proto not found in $include: install libprotobuf-dev" >&2
	exit 2
fi
mkdir -p "$out"
"$protoc" -I "$protos" -I "$include" --python_out="$out" --grpc_python_out="$out" --plugin=protoc-gen-grpc_python="$plugin" \
	"$protos/charrnn/v1/charrnn.proto"
echo "stubs written to $out/charrnn/v1"
