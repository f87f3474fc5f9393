#!/bin/sh
# Copies a statically linked busybox into the build context (the Dockerfile builds FROM scratch).
# Debian/Ubuntu: apt-get install busybox-static. Override the source with BUSYBOX=/path/to/busybox.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${BUSYBOX:-/bin/busybox}
if ! [ -x "$src" ]; then
  echo "prepare.sh: $src not found; install busybox-static or set BUSYBOX" >&2
  exit 1
fi
if command -v file >/dev/null 2>&1 && ! file "$src" | grep -q 'statically linked'; then
  echo "prepare.sh: $src is not statically linked; a FROM scratch image needs busybox-static" >&2
  exit 1
fi
cp "$src" "$here/busybox"
chmod 0755 "$here/busybox"
echo "copied $src to $here/busybox"
