"""Background jobs (labkit/jobs.py): progress as a fraction of bytes, one running job per key,
a LabkitError ending the job as a clear error read in the asker's language, a bug as an
internal error; never left running."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from labkit.errors import LabkitError
from labkit.jobs import Jobs


def test_a_job_reports_progress_then_its_result() -> None:
    step, go_on = threading.Event(), threading.Event()
    heard: list[dict[str, Any]] = []

    def work(progress: Any) -> dict[str, Any]:
        progress("archive", 25, 100)
        step.set()
        go_on.wait(10)
        progress("installing", 100, 100)
        return {"installed": {"id": "science"}}

    jobs = Jobs("test", publish=lambda name, job: heard.append(job),
                busy=LabkitError("busy now", code="busy"))
    started = jobs.start("usb", work, name="a.labpack")
    assert started["state"] == "running" and started["name"] == "a.labpack"
    assert step.wait(10)
    now = jobs.get("usb")
    assert now is not None
    assert (now["stage"], now["done"], now["total"], now["fraction"]) == ("archive", 25, 100, 0.25)
    with pytest.raises(LabkitError) as err:
        jobs.start("usb", work)
    assert err.value.code == "busy"
    go_on.set()
    assert jobs.wait("usb", timeout=10) == "done"
    done = jobs.get("usb")
    assert done is not None and done["state"] == "done" and done["fraction"] == 1.0
    assert done["installed"] == {"id": "science"}
    assert heard[0]["state"] == "running" and heard[-1]["state"] == "done"
    assert jobs.get("other") is None


def test_errors_end_the_job() -> None:
    jobs = Jobs("test")

    def refused(progress: Any) -> dict[str, Any]:
        raise LabkitError("not trusted", fix="add the key", code="untrusted_key")

    def broken(progress: Any) -> dict[str, Any]:
        raise ZeroDivisionError("bug")

    jobs.start("a", refused)
    jobs.start("b", broken)
    assert (jobs.wait("a", timeout=10), jobs.wait("b", timeout=10)) == ("error", "error")
    a, b = jobs.get("a"), jobs.get("b")
    assert a is not None and b is not None
    assert (a["state"], a["code"], a["message"], a["fix"]) == \
        ("error", "untrusted_key", "not trusted", "add the key")
    assert (b["state"], b["code"]) == ("error", "internal")
    jobs.start("a", refused)                  # a finished job's key may be used again
    assert jobs.wait("a", timeout=10) == "error" and jobs.wait("none", timeout=1) is None
