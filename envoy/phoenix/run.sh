#!/usr/bin/env bash
# `make e2e-phoenix`: the Phoenix check (envoy/phoenix/test_phoenix.py) in a network namespace that has only
# loopback, because Phoenix binds its OTLP/gRPC port on every interface. Needs root (or user namespaces) for
# `unshare --net`; PHOENIX_NO_NETNS=1 runs it in the host's network instead (Phoenix's gRPC port is then open on
# every interface of this machine while the check runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
run=(.venv/bin/pytest -q -rxX envoy/phoenix "$@")
if [ "${PHOENIX_NO_NETNS:-}" = 1 ]; then
  exec "${run[@]}"
fi
if ! unshare --net true 2>/dev/null; then
  echo "e2e-phoenix: cannot create a network namespace (unshare --net); run as root, or PHOENIX_NO_NETNS=1" >&2
  exit 2
fi
exec unshare --net bash -c 'ip link set lo up && exec "$@"' bash "${run[@]}"
