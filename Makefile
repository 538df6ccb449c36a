# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: venv neovim demo test test-python test-extension extension e2e-vscode bench fuzz clean

# torch is pinned: 2.13.0 is the CPU build these machines carry; any other
# version pulls gigabytes of CUDA packages.
$(STAMP): pyproject.toml
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

test: venv neovim test-python test-extension

# A real editor as LSP client for tests/test_neovim.py: Debian's neovim when we
# can install it (root + apt); otherwise that test is skipped with its reason.
neovim:
	@command -v nvim >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq neovim >/dev/null) ; } \
	  || echo "neovim could not be installed: tests/test_neovim.py will be skipped"

test-python: venv
	$(BIN)/python -m pytest -q

# The VS Code extension: type-check, unit tests, and the .vsix package.
test-extension:
	cd vscode-extension && npm ci --no-audit --no-fund && npm run typecheck && npm test && npm run package

extension: test-extension

# Opt-in: a real VS Code (code-server) with the packaged extension, driven by headless Chromium.
e2e-vscode: venv test-extension
	HPLINT_PYTHON=$(abspath $(BIN)/python) $(MAKE) -C vscode-extension e2e

# Opt-in, longer than `make test`'s minute of property tests: FUZZ_SECONDS of
# mutated examples and grammar-generated code; failing sources land in .hplint-fuzz/.
FUZZ_SECONDS ?= 600
fuzz: venv
	$(BIN)/python tests/fuzz_run.py --seconds $(FUZZ_SECONDS)

bench: venv
	$(BIN)/python bench/bench_check.py

clean:
	rm -rf $(VENV) vscode-extension/node_modules vscode-extension/dist
