#!/usr/bin/env bash
# Makes sure the local stack's system dependencies are present and the Docker engine answers:
# Debian packages docker.io (dockerd), docker-registry (the CNCF distribution registry) and busybox-static
# (the static binary the tiny example images are built from). Installs them with apt-get when missing (needs root)
# and starts dockerd with the settings that work in our sandboxes. Used by .ci/run and `npm run demo`.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
{ [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd && ! ldd /bin/busybox >/dev/null 2>&1; } || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "missing: ${need[*]} — install them (sudo apt-get install -y ${need[*]}) and run again" >&2
    exit 1
  fi
  echo "installing ${need[*]} (apt-get)…" >&2
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "no Docker engine answers — start dockerd (as root) and run again" >&2
    exit 1
  fi
  log="${TMPDIR:-/tmp}/shipline-dockerd.log"
  echo "starting dockerd (log: $log)…" >&2
  (setsid dockerd --storage-driver=vfs --iptables=false --bridge=none >"$log" 2>&1 &)
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || { echo "dockerd did not start:" >&2; tail -n 30 "$log" >&2; exit 1; }
fi
