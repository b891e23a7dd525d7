#!/bin/bash -e
# pi-gen sub-stage: the kiosk option. cage (a one-window Wayland compositor) + Chromium; the
# unit is installed by 00-labkit and switched on by first boot (kiosk = true) or by
# LABKIT_KIOSK=1 in the pi-gen config. Bookworm calls the browser chromium-browser, Trixie
# chromium.
: "${ROOTFS_DIR:?run by pi-gen}"

if [ "${LABKIT_KIOSK_PACKAGES:-1}" != "1" ]; then
	log "labkit: kiosk packages skipped (LABKIT_KIOSK_PACKAGES=${LABKIT_KIOSK_PACKAGES})"
	exit 0
fi
case "${RELEASE:-}" in
	bookworm) browser=chromium-browser ;;
	*) browser=chromium ;;
esac
on_chroot << EOF
apt-get -o Acquire::Retries=3 install -y --no-install-recommends cage ${browser} fonts-wqy-microhei
EOF
if [ "${LABKIT_KIOSK:-0}" = "1" ]; then
	on_chroot << EOF
systemctl enable labkit-kiosk.service
EOF
fi
