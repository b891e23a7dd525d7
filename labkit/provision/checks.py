"""What `labkit doctor` says about provisioning: first boot, the last update, the clock.

Each finding's `data` carries the English message id and its parameters (`msgid`, `params`,
and `problems` as message dicts) so the teacher page can show them from the `provision`
catalogue; `detail`/`fix` are the English text for the terminal.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from labkit.config import Settings
from labkit.doctor import Finding
from labkit.provision.firstboot import DEFAULT_FILE, read_report
from labkit.provision.messages import N_, Note
from labkit.provision.update import STATE_NAME

PLAUSIBLE_YEAR = 2025        # a Pi without RTC or network time starts near 1970 / last shutdown


def _finding(name: str, ok: bool, note: Note, fix: Note | None = None,
             **data: Any) -> Finding:
    payload = {"msgid": note.msgid, "params": note.params, **data}
    if fix is not None:
        payload["fix_msgid"] = fix.msgid
    return Finding(name, ok, note.text, fix.text if fix else "", data=payload)


def check_firstboot(settings: Settings, pending: Path = DEFAULT_FILE) -> Finding:
    report = read_report(settings.data_dir)
    if pending.exists():
        return _finding("first boot", False, Note("file", N_(
            "%(path)s is waiting to be applied (it holds the PIN and Wi-Fi passwords)."),
            {"path": str(pending)}), Note("fix", N_(
                "Restart the kit so that labkit-firstboot.service applies and removes it.")))
    if report is None:
        return _finding("first boot", True, Note("", N_(
            "no first-boot file was used; the kit runs with the image's settings")))
    problems = [Note.from_dict(p) for p in report.get("problems", []) if isinstance(p, dict)]
    applied = [str(x) for x in report.get("applied", [])]
    if not problems:
        return _finding("first boot", True, Note("", N_(
            "labkit.toml was applied (%(applied)s) and removed"),
            {"applied": ", ".join(applied) or "-"}), applied=applied, problems=[])
    return _finding("first boot", False, Note("", N_(
        "labkit.toml had %(count)s problem(s), so defaults were used for them: %(problems)s"),
        {"count": len(problems), "problems": " | ".join(p.text for p in problems)}),
        Note("fix", N_("Correct labkit.toml (see images/firstboot/labkit.toml.example), put it "
                       "on the SD card's boot partition and restart; or set the PIN on the "
                       "teacher page.")),
        applied=applied, problems=[p.to_dict() for p in problems])


def check_last_update(settings: Settings) -> Finding:
    path = settings.data_dir / STATE_NAME
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return _finding("last update", True, Note("", N_("no update installed yet")))
    except (OSError, ValueError):
        return _finding("last update", False, Note("", N_(
            "the record of the last update (%(path)s) is damaged"), {"path": str(path)}))
    status = state.get("status")
    params = {"old": state.get("old_version") or "-", "new": state.get("new_version") or "-",
              "why": "; ".join(state.get("problems") or [])}
    if status == "updated":
        return _finding("last update", True, Note("", N_(
            "updated from %(old)s to %(new)s"), params), state=state)
    if status == "rejected":
        return _finding("last update", False, Note("", N_(
            "version %(new)s failed its health check and was not installed (%(why)s); the "
            "kit runs %(old)s"), params), Note("fix", N_(
                "Make the wheelhouse again on the build machine and run labkit update again.")),
            state=state)
    if status == "rolled_back":
        return _finding("last update", False, Note("", N_(
            "version %(new)s did not start after the update (%(why)s); the kit went back to "
            "%(old)s with its data from before the update"), params), Note("fix", N_(
                "Run journalctl -u labkit to see why, then update again.")), state=state)
    return _finding("last update", False, Note("", N_(
        "the last update ended as %(status)s (%(why)s)"), {**params, "status": str(status)}),
        state=state)


def check_clock(settings: Settings, now: float | None = None) -> Finding:
    now = time.time() if now is None else now
    year = time.gmtime(now).tm_year
    if year >= PLAUSIBLE_YEAR:
        return _finding("clock", True, Note("", N_("the clock reads %(date)s"),
                                            {"date": time.strftime("%Y-%m-%d %H:%M", time.gmtime(now))}))
    return _finding("clock", False, Note("", N_(
        "the clock reads %(date)s: this kit has no battery clock and no network time yet. "
        "Labs and checks do not depend on it; saved times may look wrong."),
        {"date": time.strftime("%Y-%m-%d", time.gmtime(now))}), Note("fix", N_(
            "Connect the kit to a network once, or fit a real-time clock battery (Pi 5).")))


PROVISION_CHECKS = (check_firstboot, check_last_update, check_clock)


def register() -> None:
    from labkit import doctor

    for check in PROVISION_CHECKS:
        if check not in doctor.CHECKS:
            doctor.register_check(check)
