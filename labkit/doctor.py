"""`labkit doctor`: what hardware and software this kit has, and how to fix what is missing.

Each check returns a `Finding` in plain words for an IT teacher, with the exact command that
fixes a problem. Nothing here changes the machine.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from labkit import __version__
from labkit.config import Settings
from labkit.drivers.audio import ArecordSource, Speaker, SoundDeviceSource
from labkit.drivers.camera import Picamera2Source
from labkit.drivers.hardware import pi_model, real_pin_library, resolve_hardware
from labkit.drivers.tts import espeak_path
from labkit.drivers.wiring import load_wiring
from labkit.errors import LabkitError

MIN_FREE_MB = 500


@dataclass
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = False
    data: dict[str, Any] = field(default_factory=dict)


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def check_board(settings: Settings) -> Finding:
    model = pi_model()
    if model:
        return Finding("board", True, model, data={"model": model})
    return Finding("board", True, "not a Raspberry Pi — the kit runs on the simulated bench",
                   data={"model": None})


def check_mode(settings: Settings) -> Finding:
    try:
        mode = resolve_hardware(settings.hardware)
    except LabkitError as exc:
        return Finding("hardware mode", False, exc.message, exc.fix, required=True)
    return Finding("hardware mode", True, f"{settings.hardware} → {mode}",
                   data={"setting": settings.hardware, "mode": mode})


def check_camera(settings: Settings) -> Finding:
    cams: list[str] = []
    if Picamera2Source.available():
        cams.append("Raspberry Pi camera (picamera2)")
    cams += [str(p) for p in sorted(Path("/dev").glob("video[0-9]*"))]
    if cams:
        return Finding("camera", True, ", ".join(cams), data={"cameras": cams})
    fix = ("connect the camera ribbon cable, then: sudo apt install python3-picamera2"
           if pi_model() else "plug in a USB webcam (the synthetic camera is used meanwhile)")
    return Finding("camera", False, "no camera found; the kit shows a synthetic picture", fix,
                   data={"cameras": []})


def check_pins(settings: Settings) -> Finding:
    lib = real_pin_library()
    if pi_model() is None:
        return Finding("pin factory", True, "simulated pins (gpiozero MockFactory)",
                       data={"factory": "mock"})
    if lib:
        return Finding("pin factory", True, f"real pins through {lib}", data={"factory": lib})
    return Finding("pin factory", False, "no GPIO library found",
                   "sudo apt install python3-gpiozero python3-lgpio", required=True)


def check_wiring(settings: Settings) -> Finding:
    try:
        wiring = load_wiring(settings.wiring_file)
    except LabkitError as exc:
        return Finding("wiring", False, exc.message, exc.fix, required=True)
    return Finding("wiring", True, f"{len(wiring.devices)} devices from {wiring.source}",
                   data={"file": str(wiring.source), "devices": list(wiring.devices)})


def check_microphone(settings: Settings) -> Finding:
    if SoundDeviceSource.available():
        return Finding("microphone", True, "found (PortAudio)", data={"backend": "sounddevice"})
    if ArecordSource.available():
        return Finding("microphone", True, "found (ALSA arecord)", data={"backend": "arecord"})
    return Finding("microphone", False, "no microphone found; sound labs use the simulated one",
                   "plug in a USB microphone; check it with: arecord -l",
                   data={"backend": None})


def check_speaker(settings: Settings) -> Finding:
    backend = Speaker.backend()
    if backend:
        return Finding("speaker", True, f"found ({backend})", data={"backend": backend})
    return Finding("speaker", False, "no speaker found",
                   "plug in a speaker (3.5 mm, USB or HDMI); check it with: aplay -l",
                   data={"backend": None})


def check_espeak(settings: Settings) -> Finding:
    exe = espeak_path()
    if not exe:
        return Finding("espeak-ng", False, "not installed: the kit cannot speak",
                       "sudo apt install espeak-ng")
    voices = _run([exe, "--voices=cmn"])
    has_zh = "cmn" in voices
    return Finding("espeak-ng", has_zh, f"{exe}" + ("" if has_zh else " (no Chinese voice)"),
                   "" if has_zh else "sudo apt install espeak-ng-data", data={"path": exe})


def check_disk(settings: Settings) -> Finding:
    target = settings.data_dir if settings.data_dir.exists() else settings.data_dir.parent
    while not target.exists() and target != target.parent:
        target = target.parent
    usage = shutil.disk_usage(target)
    free_mb = usage.free // (1024 * 1024)
    ok = free_mb >= MIN_FREE_MB
    return Finding("free disk", ok, f"{free_mb} MB free on {target}",
                   "" if ok else "delete old exports, or use a bigger SD card",
                   data={"free_mb": free_mb})


def check_data_dir(settings: Settings) -> Finding:
    try:
        settings.ensure_data_dir()
    except LabkitError as exc:
        return Finding("data dir", False, exc.message, exc.fix, required=True)
    return Finding("data dir", True, f"{settings.data_dir} (writable)",
                   data={"path": str(settings.data_dir)})


def check_python_packages(settings: Settings) -> Finding:
    missing = [m for m in ("cv2", "onnxruntime", "ai_edge_litert", "flask", "gpiozero")
               if importlib.util.find_spec(m) is None]
    if missing:
        return Finding("python packages", False, "missing: " + ", ".join(missing),
                       "make run (it installs them into .venv)", required=True)
    return Finding("python packages", True, "all present")


CHECKS: list[Callable[[Settings], Finding]] = [
    check_board, check_mode, check_pins, check_wiring, check_camera, check_microphone,
    check_speaker, check_espeak, check_data_dir, check_disk, check_python_packages,
]


def register_check(check: Callable[[Settings], Finding]) -> Callable[[Settings], Finding]:
    """Let other parts of the kit (models, labs) add their own findings."""
    CHECKS.append(check)
    return check


def run_checks(settings: Settings) -> list[Finding]:
    out = []
    for check in CHECKS:
        try:
            out.append(check(settings))
        except Exception as exc:  # a broken check must not hide the others
            out.append(Finding(check.__name__.removeprefix("check_"), False,
                               f"check failed: {exc}"))
    return out


def report(findings: list[Finding]) -> dict[str, Any]:
    return {"version": __version__,
            "ok": all(f.ok or not f.required for f in findings),
            "findings": [asdict(f) for f in findings]}


def format_text(findings: list[Finding]) -> str:
    lines = [f"labkit {__version__} — kit check"]
    width = max(len(f.name) for f in findings)
    for f in findings:
        mark = "ok " if f.ok else ("ERR" if f.required else "-- ")
        lines.append(f"  [{mark}] {f.name.ljust(width)}  {f.detail}")
        if not f.ok and f.fix:
            lines.append(f"        {' ' * width}  fix: {f.fix}")
    problems = [f for f in findings if not f.ok]
    lines.append("all good." if not problems else
                 f"{len(problems)} thing(s) to look at; the kit still runs unless marked ERR.")
    return "\n".join(lines)
