#!/usr/bin/env bash
# `make test`: every check CI runs, as Makefile targets, in two lanes so both cores stay busy on a fresh machine.
# - build lane (output shown): fmt, the .wasm and the component, Wasm lints, the host build (linted as it compiles),
#   every host test, the tools;
# - side lane (output in target/make-test/side.log): the virtualenv (Envoy, SDKs), then the nightly toolchain,
#   cargo-fuzz, the fuzz build and the short fuzz run (its own workspace and target directory, so no cargo lock is
#   shared with the build lane);
# - then, alone on the machine so their timings are not disturbed: Envoy config validation, the end-to-end suites,
#   the fault matrix and the OCI image check.
# Prints every step's seconds at the end (target/make-test/steps.tsv). A failing step stops the run with exit 1;
# the side lane's log is printed if it failed.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE_CMD=(${MAKE:-make} --no-print-directory)
OUT=target/make-test
mkdir -p "$OUT"
: > "$OUT/steps.tsv"
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
seconds_since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%d' $((ms / 1000)) $((ms % 1000 / 100)); }
T0=$(now_ms)
set -m  # background lanes get their own process group, so a failure can stop all of a lane's processes

# step LANE TARGET: runs one Makefile target and records its seconds.
step() {
  local lane="$1" target="$2" t0 status
  t0=$(now_ms)
  "${MAKE_CMD[@]}" "$target"
  status=$?
  printf '%s\t%s\t%s\t%s\n' "$lane" "$target" "$(seconds_since "$t0")" \
    "$([ $status -eq 0 ] && echo ok || echo FAILED)" >> "$OUT/steps.tsv"
  return $status
}

lane() {
  local name="$1"; shift
  for target in "$@"; do
    echo "== make test [$name]: $target"
    step "$name" "$target" || { echo "== make test [$name]: $target FAILED"; return 1; }
  done
}

summary() {
  echo "== make test: seconds per step (lane, target, seconds, result)"
  column -t -s $'\t' "$OUT/steps.tsv" 2>/dev/null || cat "$OUT/steps.tsv"
  echo "total $(seconds_since "$T0") s"
}

lane side venv fuzz-deps fuzz-build fuzz-quick > "$OUT/side.log" 2>&1 &
SIDE=$!
trap 'kill -- -$SIDE 2>/dev/null' EXIT

if ! lane build fmt-check wasm component clippy-wasm host-build host-tests bins; then
  kill -- -$SIDE 2>/dev/null
  summary
  exit 1
fi
if ! wait $SIDE; then
  echo "== make test [side] FAILED; its log (target/make-test/side.log), last 60 lines:"
  tail -n 60 "$OUT/side.log"
  summary
  exit 1
fi
trap - EXIT
grep -E '^(fuzz |FUZZ )' "$OUT/side.log" || true
if ! lane live validate e2e edge-e2e e2e-faults oci-check; then
  summary
  exit 1
fi
summary
echo "make test: all checks passed"
