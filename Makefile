# CharRnn — one command per job. Every target does its own set-up (restore, build, corpus).
#   make run     the TUI with its embedded server and the default corpus
#   make test    every test project; ends with "N passed, N failed[, N skipped]"
#   make server  the gRPC model server on 127.0.0.1:50051
#   make bench   the benchmark suite (writes bench/results.md)
#   make gpu-pack  charrnn and charrnn-bench for a GPU host with PyTorch but no .NET (.gpu/; bench/README.md, GPU)
#   make demo    headless: train a small model for a minute and print generated text

SHELL         := /bin/bash
CONFIG        ?= Release
TORCH_BACKEND ?= cpu
DOTNET        ?= dotnet
BUILD_FLAGS   := -c $(CONFIG) -p:TorchBackend=$(TORCH_BACKEND) --nologo -v q
CHARRNN       := src/Tui/bin/$(CONFIG)/net10.0/charrnn
CACHE_DIR     := $(or $(CHARRNN_CACHE_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/charrnn)
SHARED_CORPUS := ../shared/data/nietzsche.txt
TEST_PROJECTS := $(wildcard tests/*/*.Tests.csproj)

.PHONY: all build run demo server test test-packages bench gpu-pack corpus clean

all: build

build:
	$(DOTNET) build CharRnn.sln $(BUILD_FLAGS)

# No internet here: seed the user cache from the shared copy when there is one
# (the engine verifies its SHA-256 before use and downloads it where it can).
corpus:
	@if [ ! -f "$(CACHE_DIR)/nietzsche.txt" ] && [ -f "$(SHARED_CORPUS)" ]; then \
		mkdir -p "$(CACHE_DIR)" && cp "$(SHARED_CORPUS)" "$(CACHE_DIR)/nietzsche.txt.tmp" && \
		mv "$(CACHE_DIR)/nietzsche.txt.tmp" "$(CACHE_DIR)/nietzsche.txt" && \
		echo "seeded $(CACHE_DIR)/nietzsche.txt from $(SHARED_CORPUS)"; fi

run: build corpus
	$(CHARRNN)

demo: build corpus
	$(CHARRNN) demo

server: build corpus
	$(CHARRNN) serve

# Debian packages that some tests drive for real (tmux, protoc and Python's gRPC).
test-packages:
	@bash tests/install-packages.sh

# Test projects run one after another: each uses libtorch's threads, and two at once on two
# cores slow each other ~10x. A test that hangs is stopped after 5 minutes and named (blame),
# instead of holding CI until its limit. The last line totals every project's results.
test: test-packages build corpus
	@set -o pipefail; rm -rf artifacts/test-logs; mkdir -p artifacts/test-logs; status=0; \
	for p in $(TEST_PROJECTS); do \
		name=$$(basename $$p .csproj); \
		echo "== $$name"; \
		$(DOTNET) test $$p -c $(CONFIG) --no-build --nologo --blame-hang-timeout 5m --blame-hang-dump-type none 2>&1 | tee artifacts/test-logs/$$name.log || status=1; \
	done; \
	bash .ci/sum-test-results artifacts/test-logs $(words $(TEST_PROJECTS)) || status=1; \
	exit $$status

bench: build corpus
	@bash bench/install-reference.sh
	bench/Bench/bin/$(CONFIG)/net10.0/charrnn-bench $(BENCH_ARGS)

gpu-pack: corpus
	bash bench/gpu/pack.sh

clean:
	$(DOTNET) clean CharRnn.sln -c $(CONFIG) --nologo -v q
	rm -rf artifacts
