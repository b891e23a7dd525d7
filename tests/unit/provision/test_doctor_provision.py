"""`labkit doctor --json` carries the provisioning findings, with their message ids."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from labkit.cli import main


def test_doctor_json_lists_first_boot_update_and_clock(data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["doctor", "--json"])
    assert result.exit_code in (0, 1), result.output
    findings = {f["name"]: f for f in json.loads(result.output)["findings"]}
    for name in ("first boot", "last update", "clock"):
        assert name in findings
        assert findings[name]["data"]["msgid"]
    assert findings["last update"]["ok"] and "no update" in findings["last update"]["detail"]
