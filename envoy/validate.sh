#!/usr/bin/env bash
# Checks every Envoy config in envoy/ with the real Envoy (`--mode validate` also loads the filter and runs its
# configuration check), after filling their placeholders.
set -euo pipefail
cd "$(dirname "$0")/.."
ENVOY="$(.venv/bin/python -c 'import envoy, os; print(os.path.join(os.path.dirname(envoy.__file__), "_bin", "envoy"))')"
WASM="$PWD/target/wasm32-wasip1/release/llm_trace.wasm"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0
for config in envoy/*.yaml; do
  rendered="$out/$(basename "$config")"
  python3 envoy/render.py "$config" "$rendered" ADMIN_PORT=19901 LISTEN_PORT=10000 UPSTREAM_PORT=18000 \
    COLLECTOR_PORT=14318 COLLECTOR_PORT_2=14319 WASM="$WASM"
  if "$ENVOY" --mode validate -c "$rendered" --log-level error > "$out/log" 2>&1; then
    echo "ok   $config"
  else
    echo "FAIL $config"; cat "$out/log"; status=1
  fi
done
exit $status
