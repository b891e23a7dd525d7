#!/bin/bash
# `make test-arm64` (optional, not in CI): the offline install and a smoke test inside an
# arm64 Debian root under qemu-user, on an x86 machine. Proves the aarch64 wheelhouse installs
# with no network and that labkit starts on aarch64: `labkit doctor --json` and GET /healthz.
#
#   sudo images/arm64/test-arm64.sh WHEELHOUSE
#
# Needs root and the Debian packages qemu-user-static, binfmt-support and mmdebstrap. Slow:
# emulated dpkg and pip take tens of minutes on 2 cores. The root is kept for the next run.
# LABKIT_ARM64_SUITE: bookworm (Python 3.11, default) or trixie (Python 3.13).
set -euo pipefail

die() { printf 'test-arm64: error: %s\n' "$*" >&2; exit 1; }
say() { printf 'test-arm64: %s\n' "$*"; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
wheelhouse=$(cd "${1:?usage: test-arm64.sh WHEELHOUSE}" && pwd)
suite=${LABKIT_ARM64_SUITE:-bookworm}
root=${LABKIT_ARM64_ROOT:-$repo/build/arm64-$suite}
port=${LABKIT_ARM64_PORT:-18080}

[ "$(id -u)" -eq 0 ] || die "needs root (chroot, binfmt_misc): sudo make test-arm64"
for tool in mmdebstrap update-binfmts unshare; do
  command -v "$tool" >/dev/null || die "$tool is missing: apt-get install qemu-user-static binfmt-support mmdebstrap"
done
if ! mountpoint -q /proc/sys/fs/binfmt_misc; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
fi
update-binfmts --enable qemu-aarch64 || die "cannot enable qemu-aarch64 in binfmt_misc"

if [ ! -x "$root/usr/bin/python3" ]; then
  say "building an arm64 $suite root in $root (needs the network once)"
  mmdebstrap --arch=arm64 --variant=apt \
    --include=python3,python3-venv,espeak-ng,ca-certificates,libgl1,libglib2.0-0 \
    "$suite" "$root" http://deb.debian.org/debian
fi
mkdir -p "$root/opt/labkit"
rm -rf "$root/opt/labkit/wheelhouse"
cp -r "$wheelhouse" "$root/opt/labkit/wheelhouse"
install -m 755 "$repo/images/install-labkit.sh" "$root/opt/labkit/install-labkit.sh"

for fs in proc sys dev; do
  mountpoint -q "$root/$fs" || mount --bind "/$fs" "$root/$fs"
done
cleanup() { for fs in dev sys proc; do umount -l "$root/$fs" 2>/dev/null || true; done; }
trap cleanup EXIT

# No network inside: `unshare --net` gives the chroot only a loopback that is down, brought
# up for the smoke test's own HTTP request.
in_root() { unshare --net chroot "$root" /bin/sh -c "ip link set lo up 2>/dev/null || true; $1"; }

say "offline install from the wheelhouse"
in_root "LABKIT_SYSTEM=0 LABKIT_MODELS=0 LABKIT_EXTRAS= /opt/labkit/install-labkit.sh /opt/labkit/wheelhouse"

say "smoke test: doctor and /healthz"
in_root "export LABKIT_DATA=/tmp/labkit-smoke LABKIT_HARDWARE=sim LABKIT_CAMERA=synthetic LABKIT_MICROPHONE=simulated
  /opt/labkit/current/bin/labkit doctor --json > /tmp/doctor.json
  /opt/labkit/current/bin/labkit serve --host 127.0.0.1 --port $port > /tmp/serve.log 2>&1 &
  pid=\$!
  ok=1
  for i in \$(seq 1 240); do
    if python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:$port/healthz\", timeout=2)' 2>/dev/null; then ok=0; break; fi
    sleep 1
  done
  kill \$pid 2>/dev/null || true
  cat /tmp/doctor.json | python3 -c 'import json, sys; r = json.load(sys.stdin); print(\"doctor ok:\", r[\"ok\"])'
  exit \$ok" || die "labkit did not answer /healthz inside the arm64 root (see $root/tmp/serve.log)"
say "passed: labkit installs offline and serves on arm64 ($suite)"
