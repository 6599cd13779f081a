# Seawall: `make test` builds what it needs and runs every suite; `make demo` runs the demo.
# Each part has its own target (test-core, check-wasm, …) so a change can be checked alone.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown

.PHONY: test demo setup-rust test-core check-wasm bench bench-core lint

LOGS := target/test-logs

test: test-core check-wasm lint
	@python3 scripts/summarize_tests.py $(LOGS)/*.log

# Installs what the Rust parts need beyond the toolchain itself.
setup-rust:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

# Unit tests, properties (proptest), the no-allocation check and the conformance vectors.
test-core:
	@mkdir -p $(LOGS)
	$(CARGO) test -p seawall-core 2>&1 | tee $(LOGS)/core.log

# The core must build for wasm32 and import nothing from its host.
check-wasm: setup-rust
	$(CARGO) build -p seawall-core-wasm-probe --target $(WASM_TARGET) --release
	python3 scripts/check_wasm_imports.py target/$(WASM_TARGET)/release/seawall_core_wasm_probe.wasm

demo:
	$(CARGO) run -q -p seawall-core --example tour

bench: bench-core

bench-core:
	$(CARGO) bench -p seawall-core --bench hot_path

lint:
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
	$(CARGO) clippy -p seawall-core -p seawall-core-wasm-probe --all-targets -- -D warnings
