#!/bin/bash -e
# pi-gen sub-stage: put the wheelhouse, the models and the units into the image, then install
# labkit inside the image's root (on_chroot) with the same script as a hand install.
# Runs on the build machine; ROOTFS_DIR and on_chroot come from pi-gen's build.sh.
: "${ROOTFS_DIR:?run by pi-gen}"

install -d "${ROOTFS_DIR}/opt/labkit" "${ROOTFS_DIR}/opt/labkit/systemd" \
	"${ROOTFS_DIR}/opt/labkit/kiosk"
rm -rf "${ROOTFS_DIR}/opt/labkit/wheelhouse"
cp -r files/wheelhouse "${ROOTFS_DIR}/opt/labkit/wheelhouse"
install -m 755 files/install-labkit.sh "${ROOTFS_DIR}/opt/labkit/install-labkit.sh"
install -m 644 files/systemd/*.service "${ROOTFS_DIR}/opt/labkit/systemd/"
install -m 755 files/labkit-kiosk.sh "${ROOTFS_DIR}/opt/labkit/kiosk/labkit-kiosk.sh"
install -m 644 files/README.md "${ROOTFS_DIR}/opt/labkit/README.md"

# Models are fetched on the build machine (same files on every platform, and no emulated
# ONNX conversion); the image only receives the finished model store.
install -d -m 750 "${ROOTFS_DIR}/var/lib/labkit"
if [ -d files/models ]; then
	rm -rf "${ROOTFS_DIR}/var/lib/labkit/models"
	cp -r files/models "${ROOTFS_DIR}/var/lib/labkit/models"
fi

# The example first-boot file sits on the boot partition, next to where labkit.toml goes.
install -d "${ROOTFS_DIR}/boot/firmware"
install -m 644 files/labkit.toml.example "${ROOTFS_DIR}/boot/firmware/labkit.toml.example"

on_chroot << EOF
LABKIT_MODELS=0 /opt/labkit/install-labkit.sh /opt/labkit/wheelhouse
EOF
