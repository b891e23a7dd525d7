"""`labkit doctor` says which of the sandbox's protections are in force on this kit."""

from __future__ import annotations

import os
from typing import Any

from labkit.sandbox.health import check_sandbox, probe


def test_the_probe_reports_what_a_program_would_get(settings: Any) -> None:
    report = probe([str(settings.data_dir)])
    assert "error" not in report, report
    assert report["network"] in ("namespace", "guard")
    assert report["filesystem"] in ("namespace", "permissions")
    assert report["no_new_privs"] is True
    assert report["user"] == ("unprivileged" if os.geteuid() == 0 else "same")


def test_the_doctor_finding_names_the_protection(settings: Any) -> None:
    finding = check_sandbox(settings)
    assert finding.name == "sandbox"
    expected = ("network namespace" if finding.data["network"] == "namespace"
                else "socket guard only")
    assert expected in finding.detail
    assert finding.ok == (finding.data["network"] == "namespace"
                          and finding.data["filesystem"] == "namespace")
