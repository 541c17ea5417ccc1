#!/usr/bin/env bash
# Run a command with a registry: start `python -m pytest_ociregistry` on a free port,
# export its URL as REGISTRY_URL (and REGISTRY_HOST, for image references), run the
# command, stop the registry.
#   usage: with-registry.sh COMMAND [ARGS...]      e.g. with-registry.sh go test ./...
set -euo pipefail

out=$(mktemp)
"${PYTHON:-python3}" -m pytest_ociregistry --preset "${PRESET:-reference}" >"$out" &
registry=$!
stop() {
  kill "$registry" 2>/dev/null || true
  wait "$registry" 2>/dev/null || true
  rm -f "$out"
}
trap stop EXIT

# The first line the registry prints is its URL.
for _ in $(seq 100); do
  [ -s "$out" ] && break
  kill -0 "$registry" 2>/dev/null || { echo "the registry did not start" >&2; exit 1; }
  sleep 0.1
done
REGISTRY_URL=$(head -n 1 "$out")
REGISTRY_HOST=${REGISTRY_URL#*://}
export REGISTRY_URL REGISTRY_HOST

"$@"
