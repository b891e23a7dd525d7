"""The first teacher PIN can only be chosen on the kit itself; the CLI sets or resets it."""

import subprocess

from labkit.store import Store
from tests.helpers import LABKIT, REPO, labkit_env

CLASSROOM_LAPTOP = {"REMOTE_ADDR": "192.0.2.10"}  # a documentation address: no traffic is sent


def test_first_pin_cannot_be_claimed_from_another_machine(app, settings):
    client = app.test_client()
    r = client.get("/teacher", environ_base=CLASSROOM_LAPTOP)
    assert r.status_code == 403 and "labkit teacher set-pin" in r.get_data(as_text=True)
    app.config["WTF_CSRF_ENABLED"] = False
    r = client.post("/teacher/setup", data={"pin": "1234", "confirm": "1234"},
                    environ_base=CLASSROOM_LAPTOP)
    assert r.status_code == 403
    assert not Store(settings.data_dir).pin.is_set


def test_first_pin_can_be_chosen_on_the_kit(app, settings):
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.get("/teacher").status_code == 200   # the test client is 127.0.0.1
    r = client.post("/teacher/setup", data={"pin": "246800", "confirm": "246800"})
    assert r.status_code == 302
    assert Store(settings.data_dir).pin.verify("246800")


def test_cli_sets_and_resets_the_pin(tmp_path):
    env = labkit_env(tmp_path / "d")

    def set_pin(pin: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(LABKIT + ["teacher", "set-pin", "--stdin"], input=pin + "\n",
                              env=env, cwd=REPO, capture_output=True, text=True, timeout=60)

    assert set_pin("135700").returncode == 0
    assert set_pin("975310").returncode == 0           # a forgotten PIN is simply replaced
    store = Store(tmp_path / "d")
    assert store.pin.verify("975310") and not store.pin.verify("135700")
    store.close()
    bad = set_pin("12ab")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("labkit: error:")
