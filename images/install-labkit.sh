#!/bin/bash
# Installs labkit offline from a wheelhouse, the way the SD image and test-arm64 do:
#   PREFIX/venvs/<version>   a venv that sees apt's picamera2/gpiozero/lgpio
#   PREFIX/current           symlink to the version labkit.service runs
# then (unless LABKIT_SYSTEM=0) the labkit user, the data dir and the systemd units.
# Running it again with the same wheelhouse changes nothing.
#
#   install-labkit.sh [WHEELHOUSE]          (default /opt/labkit/wheelhouse)
#
# Settings (environment): LABKIT_PREFIX (/opt/labkit), LABKIT_DATA (/var/lib/labkit),
# LABKIT_PYTHON (python3), LABKIT_EXTRAS (pi; empty for none), LABKIT_SYSTEM (1), LABKIT_MODELS (1: run
# `labkit models fetch` from WHEELHOUSE/models; 0 when the models were copied in already),
# LABKIT_UNITS (folder with the .service files, default PREFIX/systemd).
set -euo pipefail

wheelhouse=$(cd "${1:-/opt/labkit/wheelhouse}" && pwd)
prefix=${LABKIT_PREFIX:-/opt/labkit}
data=${LABKIT_DATA:-/var/lib/labkit}
python=${LABKIT_PYTHON:-python3}
extras=${LABKIT_EXTRAS-pi}
system=${LABKIT_SYSTEM:-1}
models=${LABKIT_MODELS:-1}
units=${LABKIT_UNITS:-$prefix/systemd}

# Only the wheelhouse: no pip settings or PYTHONPATH from the calling shell.
unset PYTHONPATH PYTHONHOME
while read -r var; do unset "$var"; done < <(compgen -e | grep '^PIP_' || true)

say() { printf 'install-labkit: %s\n' "$*"; }
die() { printf 'install-labkit: error: %s\n' "$*" >&2; exit 1; }

[ -f "$wheelhouse/SHA256SUMS" ] || die "$wheelhouse has no SHA256SUMS (make it with: make wheelhouse)"
(cd "$wheelhouse" && sha256sum --quiet --strict -c SHA256SUMS) || die "the wheelhouse in $wheelhouse is damaged"

shopt -s nullglob
wheels=("$wheelhouse"/labkit-*.whl)
shopt -u nullglob
[ "${#wheels[@]}" -eq 1 ] || die "expected one labkit wheel in $wheelhouse, found ${#wheels[@]}"
version=$(basename "${wheels[0]}")
version=${version#labkit-}
version=${version%%-*}
venv="$prefix/venvs/$version"
spec="labkit==$version"
[ -n "$extras" ] && spec="labkit[$extras]==$version"

mkdir -p "$prefix/venvs"
if [ -x "$venv/bin/labkit" ] && [ -f "$venv/.installed" ]; then
  say "labkit $version is already installed in $venv"
else
  say "installing labkit $version into $venv"
  rm -rf "$venv"
  "$python" -m venv --system-site-packages "$venv"
  # the lock's pins for this Python (one wheelhouse holds the 3.11 and the 3.13 sets)
  tag=$("$venv/bin/python" -c 'import sys; print("%d%d" % sys.version_info[:2])')
  pins=("$wheelhouse/constraints-$(uname -m)-cp$tag.txt")
  if [ -f "${pins[0]}" ]; then pins=(--constraint "${pins[0]}"); else pins=(); fi
  PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$venv/bin/python" -m pip install --quiet --no-index --no-cache-dir \
    --find-links "$wheelhouse" "${pins[@]}" -- "$spec"
  touch "$venv/.installed"
fi
if [ "$(readlink "$prefix/current" 2>/dev/null || true)" != "venvs/$version" ]; then
  ln -sfn "venvs/$version" "$prefix/.current.tmp"
  mv -T "$prefix/.current.tmp" "$prefix/current"
  say "current -> venvs/$version"
fi

if [ "$system" = "1" ]; then
  groups=()
  for g in video gpio audio spi i2c render; do
    getent group "$g" >/dev/null && groups+=("$g")
  done
  group_list=$(IFS=,; echo "${groups[*]}")
  if ! id labkit >/dev/null 2>&1; then
    useradd --system --home-dir "$data" --no-create-home --shell /usr/sbin/nologin \
      --user-group ${group_list:+--groups "$group_list"} labkit
  elif [ -n "$group_list" ]; then
    usermod --append --groups "$group_list" labkit
  fi
  if ! id labkit-kiosk >/dev/null 2>&1; then
    useradd --system --create-home --home-dir /var/lib/labkit-kiosk --shell /usr/sbin/nologin \
      --user-group ${group_list:+--groups "$group_list"} labkit-kiosk
  fi
  install -d -o labkit -g labkit -m 0750 "$data"
  # `labkit` for the IT teacher's shell: the kit's data dir unless told otherwise
  rm -f /usr/local/bin/labkit
  # shellcheck disable=SC2016  # the $ are for the wrapper, not for this script
  printf '#!/bin/sh\n: "${LABKIT_DATA:=%s}"\nexport LABKIT_DATA\nexec %s "$@"\n' \
    "$data" "$prefix/current/bin/labkit" > /usr/local/bin/labkit
  chmod 0755 /usr/local/bin/labkit
  for unit in labkit.service labkit-firstboot.service labkit-kiosk.service; do
    [ -f "$units/$unit" ] && install -m 0644 "$units/$unit" "/etc/systemd/system/$unit"
  done
  systemctl enable labkit.service labkit-firstboot.service
else
  mkdir -p "$data"
fi

if [ "$models" = "1" ]; then
  say "fetching models into $data/models from $wheelhouse/models (no network)"
  LABKIT_DATA="$data" LABKIT_MODEL_CACHE="$wheelhouse/models" \
    "$prefix/current/bin/labkit" models fetch --if-missing --quiet
fi
if [ "$system" = "1" ]; then
  chown -R labkit:labkit "$data"
fi
say "done: labkit $version"
