#!/usr/bin/env bash
# Regenerates the lock files in requirements/ from setup.cfg, with hashes, using uv:
#
#   requirements/lock-x86_64-cp311.txt    runtime + dev extras   (CI, `make test`, laptops)
#   requirements/lock-aarch64-cp311.txt   runtime + pi extra     (Pi OS Bookworm wheelhouse)
#   requirements/lock-aarch64-cp313.txt   runtime + pi extra     (Pi OS Trixie wheelhouse)
#
# The x86-64 lock is the tested set; the aarch64 locks are resolved under it as constraints,
# so a Pi gets exactly the versions CI tested (a locked version without an aarch64 wheel
# fails here, not at image build). Every lock holds wheels only (--only-binary), plus
# setuptools/wheel to build labkit itself without fetching anything unpinned.
#
# Usage: scripts/lock.sh             keep the current pins, add/remove what setup.cfg changed
#        scripts/lock.sh --upgrade   move every package to its newest allowed version
#
# Resolution uses uv's default index (PyPI) and ignores pip/uv configuration and UV_*
# variables, so a machine's local wheel folders or mirrors never leak into the lock.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
upgrade=()
case "${1:-}" in
  "") ;;
  --upgrade) upgrade=(--upgrade) ;;
  *) echo "usage: scripts/lock.sh [--upgrade]" >&2; exit 2 ;;
esac

uv=$(command -v uv || true)
if [ -z "$uv" ] || [ "$("$uv" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  tools=.cache/lock-tools
  if [ ! -x "$tools/bin/uv" ] || [ "$("$tools/bin/uv" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    echo "installing uv $UV_VERSION into $tools"
    python3 -m venv "$tools"
    "$tools/bin/python" -m pip install --quiet "uv==$UV_VERSION"
  fi
  uv=$tools/bin/uv
fi
for v in $(env | sed -n 's/^\(UV_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# setup.cfg's install_requires (+ the named extras) as a requirements file.
requirements_of() {
  python3 - "$@" <<'EOF'
import configparser
import sys

cfg = configparser.ConfigParser()
cfg.read("setup.cfg")
blocks = [cfg["options"]["install_requires"]]
blocks += [cfg["options.extras_require"][extra] for extra in sys.argv[1:]]
for block in blocks:
    for line in block.splitlines():
        if line.strip():
            print(line.strip())
EOF
}

compile() {  # compile OUT PYTHON_VERSION PLATFORM INPUT [uv options…]
  local out=$1 py=$2 platform=$3 input=$4
  shift 4
  "$uv" pip compile --quiet --no-config --generate-hashes --only-binary :all: \
    --python-version "$py" --python-platform "$platform" \
    --custom-compile-command "scripts/lock.sh" "${upgrade[@]}" "$@" \
    "$input" requirements/build.in -o "$out"
  # name setup.cfg and the x86-64 lock, not the temporary files, in the "via" comments
  sed -i -e "s|-r $input\$|labkit (setup.cfg)|" \
    -e "s|-c $tmp/tested.txt\$|-c requirements/lock-x86_64-cp311.txt|" "$out"
  if grep -Eiq '^(torch|torchvision|torchaudio)==' "$out"; then
    echo "$out pulls in torch; labkit must never depend on it" >&2
    exit 1
  fi
  echo "wrote $out ($(grep -cE '^[A-Za-z0-9]' "$out") packages)"
}

requirements_of dev > "$tmp/dev.in"
requirements_of pi > "$tmp/pi.in"

compile requirements/lock-x86_64-cp311.txt 3.11 x86_64-manylinux_2_28 "$tmp/dev.in"

# The tested versions, without hashes, as constraints for the other platforms.
grep -E '^[A-Za-z0-9]' requirements/lock-x86_64-cp311.txt | sed 's/ *\\$//' > "$tmp/tested.txt"
compile requirements/lock-aarch64-cp311.txt 3.11 aarch64-manylinux_2_36 "$tmp/pi.in" \
  --constraint "$tmp/tested.txt"
compile requirements/lock-aarch64-cp313.txt 3.13 aarch64-manylinux_2_36 "$tmp/pi.in" \
  --constraint "$tmp/tested.txt"
