"""Bad settings and environments: one clear line, exit code 2, no traceback."""

import socket
import subprocess

import pytest

from tests.helpers import LABKIT, REPO, free_port, labkit_env


def run_labkit(args, env):
    return subprocess.run(LABKIT + args, env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=60)


def assert_clear_error(result, *words):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("labkit: error:")]
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0]


def test_unknown_hardware_mode(tmp_path):
    env = labkit_env(tmp_path / "d", LABKIT_HARDWARE="banana")
    assert_clear_error(run_labkit(["serve"], env), "LABKIT_HARDWARE", "auto, sim, real")


def test_real_mode_off_a_pi(tmp_path):
    env = labkit_env(tmp_path / "d", LABKIT_HARDWARE="real", LABKIT_PORT=str(free_port()))
    assert_clear_error(run_labkit(["serve"], env), "not a Raspberry Pi")


def test_port_in_use(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        env = labkit_env(tmp_path / "d", LABKIT_PORT=str(port))
        assert_clear_error(run_labkit(["serve"], env), f"port {port}", "LABKIT_PORT")


def test_missing_camera_index(tmp_path):
    env = labkit_env(tmp_path / "d", LABKIT_PORT=str(free_port()), LABKIT_CAMERA="63")
    assert_clear_error(run_labkit(["serve"], env), "camera", "LABKIT_CAMERA")


def test_unreadable_video_file(tmp_path):
    bad = tmp_path / "lesson.mp4"
    bad.write_bytes(b"\x00" * 100)
    env = labkit_env(tmp_path / "d", LABKIT_PORT=str(free_port()), LABKIT_CAMERA=str(bad))
    assert_clear_error(run_labkit(["serve"], env), "lesson.mp4")


@pytest.mark.parametrize("text, word", [
    ("devices:\n  a: {type: LED, pin: 17}\n  b: {type: LED, pin: 17}\n", "used twice"),
    ("devices:\n  a: {type: Toaster, pin: 17}\n", "unknown type"),
])
def test_malformed_wiring(tmp_path, text, word):
    data = tmp_path / "d"
    data.mkdir()
    (data / "wiring.yaml").write_text(text)
    env = labkit_env(data, LABKIT_PORT=str(free_port()))
    assert_clear_error(run_labkit(["serve"], env), word, "wiring.yaml")


def test_version_and_doctor_run(tmp_path):
    env = labkit_env(tmp_path / "d")
    assert run_labkit(["version"], env).stdout.strip()
    doctor = run_labkit(["doctor"], env)
    assert "pin factory" in doctor.stdout and "Traceback" not in doctor.stderr
