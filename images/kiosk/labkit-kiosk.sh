#!/bin/sh
# Starts Chromium full screen on the kit's page inside cage (a one-window Wayland compositor),
# once the page answers, so the screen never shows "this site can't be reached".
set -eu
url="${LABKIT_KIOSK_URL:-http://localhost:8080/}"
health="${url%/}/healthz"
i=0
until python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$health" 2>/dev/null; do
  i=$((i + 1))
  [ "$i" -ge 120 ] && break   # show whatever the page says after two minutes
  sleep 1
done
browser=""
for candidate in chromium chromium-browser; do
  if command -v "$candidate" >/dev/null 2>&1; then browser="$candidate"; break; fi
done
if [ -z "$browser" ]; then
  echo "labkit-kiosk: no chromium installed (apt install chromium)" >&2
  exit 1
fi
exec cage -s -- "$browser" --kiosk --noerrdialogs --disable-infobars --no-first-run \
  --ozone-platform=wayland --password-store=basic --disable-features=Translate \
  --user-data-dir="${HOME:-/var/lib/labkit-kiosk}/chromium" -- "$url"
