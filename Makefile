# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv neovim demo lint test test-python test-extension extension e2e-vscode bench fuzz clean

# pytest-xdist workers for `make test` (auto: one per core).
JOBS ?= auto
# CI=true: a test or check that needs a missing program fails instead of skipping.
IN_CI = $(filter-out 0 false no,$(CI))

# torch is pinned: 2.13.0 is the CPU build these machines carry; any other
# version pulls gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	@echo "== creating $(VENV) and installing hplint -e .[dev,server,probe] with torch 2.13.0 (CPU) from PyPI =="
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.13.0" -e ".[dev,server,probe]"
	touch $(STAMP)

venv: $(STAMP)

demo: venv
	@echo "== hplint check examples/ =="
	$(BIN)/hplint check examples/ || true  # findings are the point of the demo
	@echo
	@echo "== hplint probe examples/probe_demo.py (a short instrumented run on CPU) =="
	$(BIN)/hplint probe examples/probe_demo.py --steps 20 --device cpu --no-save

test: venv neovim lint test-python test-extension

# The project checks itself: ruff (pyflakes, import order, bugbear) and mypy.
lint: venv
	$(BIN)/ruff check --no-cache hplint tests bench
	$(BIN)/mypy --no-incremental

# A real editor as LSP client for tests/test_neovim.py: Debian's neovim when we
# can install it (root + apt); otherwise that test is skipped with its reason.
neovim:
	@command -v nvim >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && echo "== installing Debian's neovim (apt-get install neovim) for tests/test_neovim.py ==" \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim >/dev/null) ; } \
	  || echo "neovim could not be installed: tests/test_neovim.py will be skipped"

test-python: venv
	$(BIN)/python -m pytest -q -n $(JOBS) --durations=10

# The VS Code extension: type-check, lint, unit tests, and the .vsix package.
# `npm ci` only when package-lock.json is newer than the installed tree.
# Without Node.js: one line saying so (outside CI), a failure in CI.
test-extension:
	@if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
	  if [ -n "$(IN_CI)" ]; then echo "CI=$(CI) and Node.js (node, npm) is not installed: the VS Code extension cannot be checked" >&2; exit 1; fi; \
	  echo "SKIPPED: the VS Code extension's checks (Node.js is not installed: https://nodejs.org, or apt-get install -y nodejs npm)"; \
	else \
	  cd vscode-extension && { [ node_modules/.package-lock.json -nt package-lock.json ] \
	    || { echo "== installing the VS Code extension's npm packages (npm ci in vscode-extension/) =="; npm ci --no-audit --no-fund; }; } \
	    && npm run typecheck && npm run lint \
	    && HPLINT_PYTHON=$(abspath $(BIN)/python) npm test && npm run package; \
	fi

extension: test-extension

# Opt-in: a real VS Code (code-server) with the packaged extension, driven by headless Chromium.
e2e-vscode: venv test-extension
	HPLINT_PYTHON=$(abspath $(BIN)/python) $(MAKE) -C vscode-extension e2e

# Opt-in, longer than `make test`'s minute of property tests: FUZZ_SECONDS of
# mutated examples and grammar-generated code; failing sources land in .hplint-fuzz/.
FUZZ_SECONDS ?= 600
fuzz: venv
	$(BIN)/python tests/fuzz_run.py --seconds $(FUZZ_SECONDS)

# Issue 14's figures next to their targets: parse ratio, peak memory and the
# -jN/-j1 CPU ratio on torch's sources and on a generated tree of training
# code, then cold start, then the result cache. BENCH_ARGS="--limit 1500" for
# a quick run on an even spread of torch's files.
BENCH_ARGS ?=
bench: venv
	$(BIN)/python bench/bench_check.py $(BENCH_ARGS)
	$(BIN)/python bench/bench_check.py --generated
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_cache.py

clean:
	rm -rf $(VENV) vscode-extension/node_modules vscode-extension/dist
