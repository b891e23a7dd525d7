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
# Each lock is then resolved once more by pip for its target (dry run, metadata only), which
# must pick exactly the locked set: pip is what installs it, and pip honours Requires-Python
# upper bounds that uv ignores (requirements/pip-compat.txt holds the constraints that keep
# the two in step). A lock is replaced only when it passes.
#
# Usage: scripts/lock.sh             keep the current pins, add/remove what setup.cfg changed
#        scripts/lock.sh --upgrade   move every package to its newest allowed version
#
# Resolution uses the tools' default index (PyPI) and ignores pip/uv configuration files and
# PIP_*/UV_* variables, so a machine's local wheel folders or mirrors never leak into a lock.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
PIP_VERSION=26.3
upgrade=()
case "${1:-}" in
  "") ;;
  --upgrade) upgrade=(--upgrade) ;;
  *) echo "usage: scripts/lock.sh [--upgrade]" >&2; exit 2 ;;
esac

for v in $(env | sed -n 's/^\(\(UV\|PIP\)_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1

# The lock tools themselves, pinned, in their own venv.
tools=.cache/lock-tools
if [ "$("$tools/bin/uv" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ] ||
   [ "$("$tools/bin/python" -m pip --version 2>/dev/null | cut -d' ' -f2)" != "$PIP_VERSION" ]; then
  echo "installing uv $UV_VERSION and pip $PIP_VERSION into $tools"
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet "pip==$PIP_VERSION" "uv==$UV_VERSION"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# setup.cfg's install_requires (+ the named extras) as a requirements file.
requirements_of() {
  python3 - "$@" <<'PY'
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
PY
}

pins_of() {  # the NAME==VERSION lines of a lock, without hashes or comments
  grep -E '^[A-Za-z0-9]' "$1" | sed 's/ *\\$//'
}

# Resolve the pins with pip for every wheel tag a machine of that CPU and glibc takes, and
# insist that pip picks exactly the lock: nothing more, nothing else.
pip_check() {  # pip_check LOCK PYTHON_VERSION CPU GLIBC_MINOR
  local lock=$1 py=$2 cpu=$3 glibc=$4 g
  local tags=(--platform "manylinux2014_$cpu")
  [ "$cpu" = x86_64 ] && tags+=(--platform manylinux2010_x86_64 --platform manylinux1_x86_64)
  for ((g = 5; g <= glibc; g++)); do tags+=(--platform "manylinux_2_${g}_$cpu"); done
  pins_of "$lock" > "$tmp/pins.txt"
  rm -rf "$tmp/pip-check"
  "$tools/bin/python" -m pip install --quiet --dry-run --ignore-installed \
    --only-binary=:all: "${tags[@]}" --python-version "$py" --implementation cp \
    --target "$tmp/pip-check" --report "$tmp/pip-report.json" -r "$tmp/pins.txt" &&
  "$tools/bin/python" - "$tmp/pins.txt" "$tmp/pip-report.json" <<'PY'
import json
import sys

from pip._vendor.packaging.utils import canonicalize_name


def pin(line):
    name, version = line.strip().split("==")
    return canonicalize_name(name), version


locked = {pin(line) for line in open(sys.argv[1]) if line.strip()}
chosen = {(canonicalize_name(i["metadata"]["name"]), i["metadata"]["version"])
          for i in json.load(open(sys.argv[2]))["install"]}
for name, version in sorted(chosen ^ locked):
    verb = "adds" if (name, version) in chosen else "does not take"
    print(f"pip {verb} {name}=={version}", file=sys.stderr)
sys.exit(chosen != locked)
PY
}

compile() {  # compile OUT PYTHON_VERSION PLATFORM INPUT [uv options…]
  local out=$1 py=$2 platform=$3 input=$4
  shift 4
  local new
  new=$tmp/$(basename "$out")
  [ -f "$out" ] && cp "$out" "$new"       # uv keeps the pins of an existing output file
  "$tools/bin/uv" pip compile --quiet --no-config --generate-hashes --only-binary :all: \
    --python-version "$py" --python-platform "$platform" \
    --custom-compile-command "scripts/lock.sh" "${upgrade[@]}" "$@" \
    --constraint requirements/pip-compat.txt "$input" requirements/build.in -o "$new"
  # name setup.cfg and the x86-64 lock, not the temporary files, in the "via" comments
  sed -i -e "s|-r $input\$|labkit (setup.cfg)|" \
    -e "s|-c $tmp/tested.txt\$|-c requirements/lock-x86_64-cp311.txt|" "$new"
  if grep -Eiq '^(torch|torchvision|torchaudio)==' "$new"; then
    echo "$out would pull in torch; labkit must never depend on it" >&2
    exit 1
  fi
  local cpu=${platform%%-*} glibc=${platform##*_}
  if ! pip_check "$new" "$py" "$cpu" "$glibc"; then
    echo "pip does not install $out as uv locked it (see above): constrain the package in" \
      "requirements/pip-compat.txt and run scripts/lock.sh again; $out is unchanged" >&2
    exit 1
  fi
  mv "$new" "$out"
  echo "wrote $out ($(pins_of "$out" | wc -l) packages; pip takes exactly these on" \
    "$cpu cp${py/./} glibc 2.$glibc)"
}

requirements_of dev > "$tmp/dev.in"
requirements_of pi > "$tmp/pi.in"

compile requirements/lock-x86_64-cp311.txt 3.11 x86_64-manylinux_2_28 "$tmp/dev.in"

# The tested versions, without hashes, as constraints for the other platforms.
pins_of requirements/lock-x86_64-cp311.txt > "$tmp/tested.txt"
compile requirements/lock-aarch64-cp311.txt 3.11 aarch64-manylinux_2_36 "$tmp/pi.in" \
  --constraint "$tmp/tested.txt"
compile requirements/lock-aarch64-cp313.txt 3.13 aarch64-manylinux_2_36 "$tmp/pi.in" \
  --constraint "$tmp/tested.txt"
