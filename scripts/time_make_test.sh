#!/usr/bin/env bash
# Times every step of `make test` as the Makefile runs them today, with `cargo --timings` reports, so the cost of a
# fresh run can be attributed (which crate, which profile). Run it in a fresh clone with an empty target dir:
#   git clone . /tmp/fresh && cd /tmp/fresh && JOBS=1 nice -n 19 scripts/time_make_test.sh [old|new]
# `old` runs the steps of the Makefile before the change (clippy, unit, host tests in dev, bins in release);
# `new` runs the Makefile's targets (whatever they are now) one by one; TARGETS="..." to choose them. Writes target/step-times.tsv (step, seconds) and target/cargo-timings/*.html.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-old}"
export CARGO_BUILD_JOBS="${JOBS:-1}"
mkdir -p target
OUT=target/step-times.tsv
: > "$OUT"
step() {
  local name="$1"; shift
  local t0; t0=$(date +%s.%N)
  "$@"
  local t1; t1=$(date +%s.%N)
  printf '%s\t%.1f\n' "$name" "$(echo "$t1 - $t0" | bc)" | tee -a "$OUT"
}
T0=$(date +%s.%N)
if [ "$MODE" = old ]; then
  step fmt-check cargo fmt --all --check
  rustup target add wasm32-wasip1 >/dev/null 2>&1 || true
  step wasm cargo build --timings --release --target wasm32-wasip1 -p llm-trace -p noop-filter
  step clippy-host cargo clippy --timings --workspace --all-targets -- -D warnings
  step clippy-wasm cargo clippy --timings -p llm-trace -p noop-filter --target wasm32-wasip1 -- -D warnings
  step unit cargo test --timings -p llm-trace
  step host-tests cargo test --timings -p host-tests
  step venv make venv
  step validate envoy/validate.sh
  step bins cargo build --timings --release -p host-tests --bins
  step e2e .venv/bin/pytest -q envoy/e2e
else
  # The Makefile's own targets, in `make test`'s order (each target's prerequisites are already built by then).
  for target in ${TARGETS:-fmt-check wasm clippy unit host-tests venv validate bins e2e oci-check}; do
    step "$target" make "$target"
  done
fi
printf 'total\t%.1f\n' "$(echo "$(date +%s.%N) - $T0" | bc)" | tee -a "$OUT"
