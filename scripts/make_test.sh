#!/usr/bin/env bash
# `make test`: every check CI runs, as Makefile targets, in lanes so both cores stay busy on a fresh machine (most of
# a fresh run is compiling, and no single cargo build keeps two cores busy all the way).
# - build lane (output shown): fmt, the .wasm, its lints, the host build (linted as it compiles, and building the
#   tools the end-to-end tests run);
# - component lane (target/make-test/component.log): the wasi:http component and its lints, in a target directory
#   of its own (no cargo lock shared with the build lane);
# - venv lane (target/make-test/venv.log): the virtualenv (Envoy, SDKs);
# - fuzz lane (target/make-test/fuzz.log): the fuzz build and the short fuzz run (its own workspace and target
#   directory);
# - then, once everything is built, with nothing rebuilt: every host test (target/make-test/host-tests.log) beside
#   Envoy config validation, the Envoy suite and the OCI image check in one lane and the edge suite and the fault
#   matrix in another (each stack is on free ports with its own Envoy base id; they spend most of their time waiting
#   on sockets).
# Prints every step's seconds at the end (target/make-test/steps.tsv). A failing step stops every lane and the run
# exits 1; a background lane's log is printed when it failed.
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

# background LANE TARGET...: starts a lane as its own process group, output in target/make-test/LANE.log; sets
# the PID variable LAST.
background() {
  local name="$1"; shift
  lane "$name" "$@" > "$OUT/$name.log" 2>&1 &
  LAST=$!
  RUNNING+=("$LAST")
}

# await LANE PID: waits for a background lane; on failure prints its log's end and returns 1.
await() {
  if ! wait "$2"; then
    echo "== make test [$1] FAILED; its log ($OUT/$1.log), last 80 lines:"
    tail -n 80 "$OUT/$1.log"
    return 1
  fi
}

fail() {
  local pid
  for pid in "${RUNNING[@]}"; do kill -- "-$pid" 2>/dev/null; done
  summary
  exit 1
}

RUNNING=()
trap 'for pid in "${RUNNING[@]}"; do kill -- "-$pid" 2>/dev/null; done' EXIT
background venv venv; VENV_LANE=$LAST
background fuzz fuzz-deps fuzz-build fuzz-quick; FUZZ=$LAST
background component component clippy-component; COMPONENT=$LAST
lane build fmt-check wasm clippy-plugin host-build || fail
await component "$COMPONENT" || fail
await venv "$VENV_LANE" || fail

# Everything is built: from here no step rebuilds (make -o), so no step waits on another's cargo lock. The host
# tests (CPU) run beside the end-to-end suites (mostly waiting on sockets) and the rest of the fuzz run.
MAKE_CMD+=(-o wasm -o component -o host-build -o bins)
background host-tests host-tests; HOST_TESTS=$LAST
background edge-and-faults edge-e2e e2e-faults; EDGE=$LAST
lane live validate e2e oci-check || fail
await edge-and-faults "$EDGE" || fail
await host-tests "$HOST_TESTS" || fail
grep -hE '^test result|^running [0-9]+ tests' "$OUT/host-tests.log" | sort | uniq -c || true
await fuzz "$FUZZ" || fail
grep -hE '^(fuzz |FUZZ )' "$OUT/fuzz.log" || true
RUNNING=()
summary
echo "make test: all checks passed"
