#!/usr/bin/env bash
# The heavyweight clients the tests in tests/clients/ drive (Docker Engine, containerd, podman, buildah, umoci,
# skopeo), from Debian packages.
#
#   ci/heavy-clients.sh install       install the packages (their systemd units are not started)
#   ci/heavy-clients.sh stop ROOT     stop the daemons a test run started under ROOT (OCI_HEAVY_ROOT), if any are
#                                     left (the session fixtures stop them; this is for a run that crashed)
#
# The tests start dockerd and containerd themselves, once per pytest worker, with private data and exec roots,
# sockets, storage and configuration under OCI_HEAVY_ROOT/<worker> (else a pytest temporary directory): nothing
# touches the machine's own daemons, /var/lib/docker, /var/lib/containerd or /var/lib/containers.
set -euo pipefail

case "${1:-}" in
install)
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends \
    docker.io containerd podman buildah umoci skopeo docker-registry busybox-static >/dev/null
  ;;
stop)
  root="${2:?usage: $0 stop ROOT}"
  [ -d "$root" ] || exit 0
  pids=()
  while IFS= read -r -d '' pidfile; do
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done < <(find "$root" -name '*.pid' -print0)
  for pid in "${pids[@]}"; do
    for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf --one-file-system "$root" 2>/dev/null || true
  ;;
*)
  echo "usage: $0 install | stop ROOT" >&2
  exit 2
  ;;
esac
