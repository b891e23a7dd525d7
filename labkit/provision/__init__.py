"""Getting a kit from a blank SD card to a working classroom kit, and keeping it updated.

    config.py     labkit.toml (first-boot settings) → FirstBootConfig + problems, never raising
    network.py    NetworkManager keyfiles for the school Wi-Fi and the kit's own hotspot
    firstboot.py  apply a FirstBootConfig once (hostname, PIN, room code, network, kiosk)
    bundle.py     a wheelhouse folder or archive with SHA256SUMS: write and verify
    wheelhouse.py build the wheelhouse from the lock files and the model wheels (make wheelhouse)
    update.py     `labkit update FILE`: side-by-side venvs, health check, switch or roll back
    checks.py     what `labkit doctor` says about first boot, updates and the clock

Why here and not in scripts: the image, the Ansible playbook and `labkit update` all need the
same parser, layout and checksum rules, and the tests exercise them without a Pi.
"""
