# CharRnn — one command per job. Every target does its own set-up (restore, build, corpus).
#   make run     the TUI with its embedded server and the default corpus
#   make test    every test project; ends with "N passed, N failed[, N skipped]"
#                (FILTER=EXPR: only the tests dotnet test --filter EXPR selects, e.g. FILTER=FullyQualifiedName~CheckpointTests)
#   make server  the gRPC model server on 127.0.0.1:50051
#   make bench   the benchmark suite (writes bench/results.md)
#   make gpu-pack  charrnn and charrnn-bench for a GPU host with PyTorch but no .NET (.gpu/; bench/README.md, GPU)
#   make demo    headless: train a small model for a minute and print generated text

SHELL         := /bin/bash
CONFIG        ?= Release
TORCH_BACKEND ?= cpu
DOTNET        ?= dotnet
BUILD_FLAGS   := -c $(CONFIG) -p:TorchBackend=$(TORCH_BACKEND) --nologo -v q
# Through the dotnet on PATH: the native launcher looks for .NET in DOTNET_ROOT and the standard
# folders only, and an SDK installed under ~/.dotnet with only PATH set is in neither.
CHARRNN       := $(DOTNET) src/Tui/bin/$(CONFIG)/net10.0/charrnn.dll
CACHE_DIR     := $(or $(CHARRNN_CACHE_DIR),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/charrnn)
SHARED_CORPUS := ../shared/data/nietzsche.txt
TEST_PROJECTS := $(wildcard tests/*/*.Tests.csproj)
FILTER        ?=

.PHONY: all build run demo server test test-packages node-example-packages bench gpu-pack corpus clean

all: build

build:
	$(DOTNET) build CharRnn.sln $(BUILD_FLAGS)

# No internet here: seed the user cache from the shared copy when there is one, and replace a
# cached copy that is not the lesson's file (the engine verifies its SHA-256 before use and
# downloads it where it can). A temp file of its own, writable whatever the source's mode.
NIETZSCHE_SHA256 := 23cf69874ab69d3d256099ab530ea4be24d47d9675b673bcc67cbcd6298ec647
corpus:
	@if [ -f "$(SHARED_CORPUS)" ] && ! echo "$(NIETZSCHE_SHA256)  $(CACHE_DIR)/nietzsche.txt" | sha256sum --check --status 2>/dev/null; then \
		if ! echo "$(NIETZSCHE_SHA256)  $(SHARED_CORPUS)" | sha256sum --check --status; then \
			echo "$(SHARED_CORPUS) is not the lesson's file (SHA-256 $(NIETZSCHE_SHA256)); not seeded" >&2; \
		else mkdir -p "$(CACHE_DIR)" && tmp=$$(mktemp "$(CACHE_DIR)/nietzsche.txt.XXXXXX") && \
			{ install -m 0644 "$(SHARED_CORPUS)" "$$tmp" && mv "$$tmp" "$(CACHE_DIR)/nietzsche.txt" || { rm -f "$$tmp"; false; }; } && \
			echo "seeded $(CACHE_DIR)/nietzsche.txt from $(SHARED_CORPUS)"; fi; fi

run: build corpus
	$(CHARRNN)

demo: build corpus
	$(CHARRNN) demo

server: build corpus
	$(CHARRNN) serve

# Debian packages that some tests drive for real (tmux, protoc and Python's gRPC).
test-packages:
	@bash tests/install-packages.sh

# The Node example's packages, for its test (RealProcessTests): npm ci once per package-lock.json, where
# node and npm are. Without them, or with the registry out of reach, that test is skipped, not failed
# (an unreachable registry costs each run at most two minutes, not npm's default five per request).
node-example-packages:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 \
		&& [ ! examples/node/node_modules/.package-lock.json -nt examples/node/package-lock.json ]; then \
		(cd examples/node && timeout 120 npm ci --no-audit --no-fund --loglevel=error --fetch-retries=1 --fetch-timeout=15000 >/dev/null 2>&1) \
		|| echo "note: npm ci in examples/node failed (registry out of reach?): the Node example's test is skipped"; fi

# Test projects run one after another: each uses libtorch's threads, and two at once on two
# cores slow each other ~10x. A test that hangs is stopped after 5 minutes and named (blame),
# instead of holding CI until its limit. The last line totals every project's results, read
# from English summaries (DOTNET_CLI_UI_LANGUAGE) and each project's exit code (a run stopped
# by the hang timeout prints a summary of the tests it finished, with none failed). A process
# that crashes leaves a crash report in artifacts/test-logs (the runtime's createdump), whose
# crashed thread the total prints: blame names only the test that was running, not where.
# FILTER narrows each project to the tests it selects; a project with none counts none.
TEST_CRASH_ENV := DOTNET_DbgEnableMiniDump=1 DOTNET_DbgMiniDumpType=1 DOTNET_EnableCrashReport=1 \
	DOTNET_DbgMiniDumpName=$(CURDIR)/artifacts/test-logs/crash.%e.%p.dmp
test: test-packages node-example-packages build corpus
	@set -o pipefail; export DOTNET_CLI_UI_LANGUAGE=en VSLANG=1033 $(TEST_CRASH_ENV); rm -rf artifacts/test-logs; mkdir -p artifacts/test-logs; status=0; \
	for p in $(TEST_PROJECTS); do \
		name=$$(basename $$p .csproj); \
		echo "== $$name"; \
		$(DOTNET) test $$p -c $(CONFIG) --no-build --nologo --blame-hang-timeout 5m --blame-hang-dump-type none $(if $(FILTER),--filter '$(FILTER)') 2>&1 | tee artifacts/test-logs/$$name.log; \
		rc=$${PIPESTATUS[0]}; echo $$rc > artifacts/test-logs/$$name.rc; [ $$rc -eq 0 ] || status=1; \
	done; \
	bash .ci/sum-test-results artifacts/test-logs $(words $(TEST_PROJECTS)) || status=1; \
	exit $$status

bench: build corpus
	@bash bench/install-reference.sh
	$(DOTNET) bench/Bench/bin/$(CONFIG)/net10.0/charrnn-bench.dll $(BENCH_ARGS)

gpu-pack: corpus
	bash bench/gpu/pack.sh

# Also what dotnet clean leaves: publish output (gpu-pack), TorchSharp's fallback copies of its natives
# (a cpu/ folder beside the program, never refreshed once made), the GPU pack and the Python stubs.
clean:
	$(DOTNET) clean CharRnn.sln -c $(CONFIG) --nologo -v q
	rm -rf artifacts .gpu examples/python/charrnn/v1 examples/python/__pycache__
	rm -rf src/*/bin/*/*/linux-x64 bench/*/bin/*/*/linux-x64 src/*/bin/*/*/cpu tests/*/bin/*/*/cpu bench/*/bin/*/*/cpu
