"""PIN limits: ≥ 6 digits for new PINs, one counter per account (atomic, whatever the source
address), a separate counter for the kit's own screen, recovery only with physical access
(issue 11 § 6, issue 16 Teacher console)."""

from __future__ import annotations

import re
import subprocess
import threading
import urllib.parse
import urllib.request
from typing import Any

import pytest

from labkit.store.pin import FREE_TRIES, hash_pin
from tests.helpers import LABKIT, REPO, labkit_env
from tests.security.web_helpers import LAPTOP, PIN, browser, set_pin, store_of

WRONG = "11110000"


def _login(client: Any, pin: str) -> Any:
    return client.post("/teacher/login", data={"pin": pin})


@pytest.mark.parametrize("pin", ["1234", "12345", "12a456", "1" * 13])
def test_new_pins_have_six_to_twelve_digits(app: Any, pin: str) -> None:
    r = browser(app).post("/teacher/setup", data={"pin": pin, "confirm": pin})
    assert r.status_code == 400 and "6 to 12 digits" in r.get_data(as_text=True) \
        or "6 到 12" in r.get_data(as_text=True)
    assert not store_of(app).pin.is_set


def test_a_short_pin_of_an_older_kit_still_works_with_a_notice(app: Any) -> None:
    store = store_of(app)
    with store.db.transaction() as tx:
        tx.execute("INSERT INTO kit_settings (key, value) VALUES ('teacher_pin', ?)",
                   (hash_pin("4321"),))
    client = browser(app)
    assert _login(client, "4321").status_code == 302
    assert 'id="pin-short"' in client.get("/teacher").get_data(as_text=True)
    r = client.post("/teacher/pin", data={"current": "4321", "pin": "5678", "confirm": "5678"})
    assert r.status_code == 400 and store.pin.verify("4321")


def test_rotating_addresses_does_not_reset_the_count(app: Any) -> None:
    set_pin(app)
    answers = [_login(browser(app, REMOTE_ADDR=f"192.0.2.{i + 20}"), WRONG).status_code
               for i in range(12)]
    assert answers.count(403) == FREE_TRIES and answers[FREE_TRIES:] == [429] * 7
    # even the right PIN now waits, from yet another address
    assert _login(browser(app, REMOTE_ADDR="198.51.100.7"), PIN).status_code == 429


def test_a_child_at_the_kiosk_cannot_lock_the_teacher_out_of_other_devices(app: Any) -> None:
    set_pin(app)
    kiosk = browser(app)                          # the test client is 127.0.0.1: the kit itself
    for _ in range(FREE_TRIES + 2):
        _login(kiosk, WRONG)
    assert _login(kiosk, PIN).status_code == 429          # the kiosk waits …
    assert _login(browser(app, **LAPTOP), PIN).status_code == 302   # … the teacher's laptop not


def test_the_network_cannot_lock_out_the_kits_own_screen(app: Any) -> None:
    set_pin(app)
    for i in range(FREE_TRIES + 2):
        _login(browser(app, REMOTE_ADDR=f"192.0.2.{i + 40}"), WRONG)
    assert _login(browser(app, **LAPTOP), PIN).status_code == 429
    assert _login(browser(app), PIN).status_code == 302


def test_forty_concurrent_guesses_against_the_real_server(server_factory: Any) -> None:
    server = server_factory()
    store_env = labkit_env(server.data_dir)
    subprocess.run(LABKIT + ["teacher", "set-pin", "--stdin"], input=PIN + "\n", env=store_env,
                   cwd=REPO, check=True, capture_output=True, text=True, timeout=120)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    html = opener.open(server.url + "/teacher", timeout=30).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    body = urllib.parse.urlencode({"pin": WRONG, "csrf_token": token}).encode()
    statuses: list[int] = []
    start = threading.Barrier(40)

    def guess() -> None:
        start.wait()
        try:
            statuses.append(opener.open(server.url + "/teacher/login", body, timeout=120).status)
        except urllib.error.HTTPError as exc:
            statuses.append(exc.code)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert len(statuses) == 40 and set(statuses) <= {403, 429}, statuses
    assert statuses.count(403) <= FREE_TRIES, statuses   # a 403 is a PIN that was checked


def _recovery_code(client: Any) -> str:
    html = client.post("/teacher/recover/code").get_data(as_text=True)
    return re.search(r'id="recovery-code">(\d+)<', html).group(1)


def test_a_recovery_code_is_shown_only_on_the_kit_and_works_once(app: Any) -> None:
    set_pin(app)
    laptop = browser(app, **LAPTOP)
    assert laptop.post("/teacher/recover/code").status_code == 403
    assert "show-code" not in laptop.get("/teacher/recover").get_data(as_text=True)
    old = browser(app, **LAPTOP)
    assert _login(old, PIN).status_code == 302
    code = _recovery_code(browser(app))            # the kiosk shows it on the kit's screen
    new = "86420975"
    r = laptop.post("/teacher/recover", data={"code": code, "pin": new, "confirm": new})
    assert r.status_code == 302 and store_of(app).pin.verify(new)
    assert old.get("/teacher/classes/1").status_code == 302          # the old session ended
    again = laptop.post("/teacher/recover", data={"code": code, "pin": PIN, "confirm": PIN})
    assert again.status_code == 400 and store_of(app).pin.verify(new)


def test_wrong_recovery_codes_void_the_code(app: Any) -> None:
    set_pin(app)
    code = _recovery_code(browser(app))
    laptop = browser(app, **LAPTOP)
    for _ in range(5):
        wrong = "0" * 8 if code != "0" * 8 else "1" * 8
        assert laptop.post("/teacher/recover", data={"code": wrong, "pin": "13572468",
                                                     "confirm": "13572468"}).status_code == 400
    r = laptop.post("/teacher/recover", data={"code": code, "pin": "13572468",
                                              "confirm": "13572468"})
    assert r.status_code == 400 and store_of(app).pin.verify(PIN)


def test_reset_pin_in_a_shell_prints_a_code(app: Any, settings: Any) -> None:
    set_pin(app)
    done = subprocess.run(LABKIT + ["teacher", "reset-pin"], env=labkit_env(settings.data_dir),
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    code = re.search(r"recovery code: (\d+)", done.stdout).group(1)
    r = browser(app, **LAPTOP).post("/teacher/recover", data={"code": code, "pin": "55667788",
                                                             "confirm": "55667788"})
    assert r.status_code == 302 and store_of(app).pin.verify("55667788")
