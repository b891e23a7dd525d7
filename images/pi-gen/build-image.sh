#!/bin/bash
# `make image`: a Raspberry Pi OS image with labkit installed, built with pi-gen.
#
#   images/pi-gen/build-image.sh WHEELHOUSE
#
# Needs (only here, on the build machine): internet for pi-gen's apt packages, root (or
# Docker with LABKIT_PIGEN_DOCKER=1), qemu-user-static + binfmt_misc on a non-arm64 machine,
# and a host labkit (LABKIT_HOST_BIN, default .venv/bin/labkit) to fetch the models.
# The image needs no internet at the school: wheels and models travel inside it.
#
# Settings (environment):
#   LABKIT_RELEASE      trixie (default) | bookworm
#   PI_GEN_REF          pi-gen commit; default: the one this script was checked against
#   PI_GEN_DIR          an existing pi-gen checkout to use instead of cloning
#   LABKIT_IMAGE_WORK   work folder (default build/image)
#   LABKIT_KIOSK        1: the kiosk screen is on from the start (else first boot decides)
#   LABKIT_IMAGE_MODELS 0: do not fetch models (the image then fetches nothing either)
#   LABKIT_IMAGE_DRY_RUN 1: assemble the stage and config, print the command, do not build
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
images=$(cd "$here/.." && pwd)
repo=$(cd "$images/.." && pwd)
wheelhouse=$(cd "${1:?usage: build-image.sh WHEELHOUSE}" && pwd)
release=${LABKIT_RELEASE:-trixie}
work=${LABKIT_IMAGE_WORK:-$repo/build/image}
host_labkit=${LABKIT_HOST_BIN:-$repo/.venv/bin/labkit}
dry_run=${LABKIT_IMAGE_DRY_RUN:-0}

# pi-gen's arm64 branches (64-bit images for Pi 3/4/5/Zero 2), checked on 2026-12-01:
case "$release" in
  trixie)   branch=arm64;          default_ref=ca8aeed0ae300c2a89f55ce9617d5f96a27e99e5 ;;
  bookworm) branch=bookworm-arm64; default_ref=d7a31c6aa09f4b867902c51da2b45807c0a1709e ;;
  *) echo "build-image: LABKIT_RELEASE must be trixie or bookworm" >&2; exit 2 ;;
esac
ref=${PI_GEN_REF:-$default_ref}

(cd "$wheelhouse" && sha256sum --quiet --strict -c SHA256SUMS) \
  || { echo "build-image: the wheelhouse in $wheelhouse is damaged; run make wheelhouse" >&2; exit 1; }

pigen=${PI_GEN_DIR:-$work/pi-gen}
if [ "$dry_run" != "1" ] && [ ! -d "$pigen/.git" ] && [ -z "${PI_GEN_DIR:-}" ]; then
  git clone --branch "$branch" https://github.com/RPi-Distro/pi-gen.git "$pigen"
fi
if [ -d "$pigen/.git" ]; then
  git -C "$pigen" fetch --quiet origin "$branch" || true
  git -C "$pigen" checkout --quiet "$ref"
fi
mkdir -p "$pigen"

# The stage lives inside the pi-gen folder so build-docker.sh sees it too.
stage="$pigen/stage-labkit"
rm -rf "$stage"
cp -r "$here/stage-labkit" "$stage"
files="$stage/00-labkit/files"
mkdir -p "$files/systemd"
cp -r "$wheelhouse" "$files/wheelhouse"
cp "$images/install-labkit.sh" "$files/install-labkit.sh"
cp "$images/systemd/"*.service "$files/systemd/"
cp "$images/kiosk/labkit-kiosk.sh" "$files/labkit-kiosk.sh"
cp "$images/firstboot/labkit.toml.example" "$files/labkit.toml.example"
cp "$images/README.md" "$files/README.md"

if [ "${LABKIT_IMAGE_MODELS:-1}" = "1" ]; then
  model_data="$work/model-data"
  mkdir -p "$model_data"
  LABKIT_DATA="$model_data" LABKIT_MODEL_CACHE="$wheelhouse/models" \
    "$host_labkit" models fetch --if-missing --quiet
  cp -r "$model_data/models" "$files/models"
fi

# pi-gen reads this file with `source`; the exports reach the stage's run scripts.
cat > "$pigen/config" <<EOF
IMG_NAME="labkit-${release}"
RELEASE="${release}"
STAGE_LIST="stage0 stage1 stage2 stage-labkit"
TARGET_HOSTNAME="labkit"
LOCALE_DEFAULT="zh_CN.UTF-8"
TIMEZONE_DEFAULT="Asia/Shanghai"
KEYBOARD_KEYMAP="us"
KEYBOARD_LAYOUT="English (US)"
ENABLE_SSH=0
DEPLOY_COMPRESSION="xz"
ENABLE_CLOUD_INIT=$([ "$release" = trixie ] && echo 1 || echo 0)
export LABKIT_KIOSK="${LABKIT_KIOSK:-0}"
export LABKIT_KIOSK_PACKAGES="${LABKIT_KIOSK_PACKAGES:-1}"
EOF
# only the labkit image is exported, not stage2's plain "lite" one
touch "$pigen/stage2/SKIP_IMAGES" 2>/dev/null || true

if [ "${LABKIT_PIGEN_DOCKER:-0}" = "1" ]; then
  cmd=(./build-docker.sh -c config)
else
  cmd=(./build.sh -c config)
fi
echo "build-image: pi-gen $branch @ $ref in $pigen"
echo "build-image: run: (cd $pigen && ${cmd[*]})"
if [ "$dry_run" = "1" ]; then
  exit 0
fi
[ "$(id -u)" -eq 0 ] || [ "${LABKIT_PIGEN_DOCKER:-0}" = "1" ] \
  || { echo "build-image: pi-gen's build.sh needs root (sudo make image), or set LABKIT_PIGEN_DOCKER=1" >&2; exit 1; }
cd "$pigen" && "${cmd[@]}"
echo "build-image: the image is in $pigen/deploy/"
