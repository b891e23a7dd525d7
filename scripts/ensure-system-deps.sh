#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (a real browser for the page tests,
# a CJK font so Chinese renders, espeak-ng + sox for generated speech, shellcheck and
# systemd-analyze for the SD image's scripts and units, 7-Zip and qemu-user for the export
# and int8 checks). As root it installs
# them; otherwise it stops with the exact command to run. Browser tests are never skipped.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v espeak-ng >/dev/null 2>&1 || need+=(espeak-ng)
command -v sox >/dev/null 2>&1 || need+=(sox)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-microhei)
# the teacher's encrypted export opened by the same 7-Zip a school PC uses
{ command -v 7zz || command -v 7z; } >/dev/null 2>&1 || need+=(7zip)
# int8 models checked on an emulated CPU without VNNI (a Pi-like integer path) on x86-64
if [ "$(uname -m)" = x86_64 ]; then
  command -v qemu-x86_64-static >/dev/null 2>&1 || need+=(qemu-user-static)
fi
[ ${#need[@]} -eq 0 ] && exit 0
cmd="apt-get update && apt-get install -y --no-install-recommends ${need[*]}"
if [ "$(id -u)" -eq 0 ]; then
  echo "installing system packages for the tests: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "The tests need these Debian packages: ${need[*]}" >&2
  echo "Run:  sudo sh -c '$cmd'" >&2
  exit 1
fi
