"""`labkit pack ...` end to end through the CLI: keygen, trust, build the kit's own labs as
the built-in pack, verify, install, list, retire, upgrade and roll back; errors are one line."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from labkit.cli import main
from labkit.projects.registry import discover


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env={"LABKIT_LANG": "en"})
    return result.exit_code, result.output


def test_pack_cli_round_trip(tmp_path: Path, data_dir: Path) -> None:
    key = tmp_path / "pub.key"
    code, out = run("pack", "keygen", str(key))
    assert code == 0, out
    usb = tmp_path / "usb"
    code, out = run("pack", "build-builtin", "--key", str(key), "--out", str(usb))
    assert code == 0, out
    pack = next(usb.glob("labkit-builtin-*.labpack"))
    # not trusted yet: refused, one line, nothing installed
    code, out = run("pack", "install", str(pack))
    assert code == 2 and "does not trust" in out and len(out.strip().splitlines()) == 1
    assert run("pack", "list", "--json")[1].strip() == "[]"
    code, out = run("pack", "trust", str(key) + ".pub")
    assert code == 0, out
    code, out = run("pack", "verify", str(pack))
    assert code == 0 and json.loads(out)["id"] == "labkit-builtin"
    code, out = run("pack", "install", str(pack))
    assert code == 0, out
    rows = json.loads(run("pack", "list", "--json")[1])
    assert [(r["id"], r["retired"]) for r in rows] == [("labkit-builtin", False)]
    installed = data_dir / "packs" / "installed" / "labkit-builtin" / rows[0]["current"]
    assert (installed / "labs" / "experience" / "clap_lamp" / "lab.yaml").is_file()
    # the kit's labs now come from the installed pack, with no duplicate-id problems
    labs = discover(data_dir=data_dir)
    assert labs.specs["clap_lamp"].folder.is_relative_to(installed)
    assert labs.problems == discover().problems
    code, out = run("pack", "install", str(pack))
    assert code == 2 and "not newer" in out
    code, out = run("pack", "retire", "labkit-builtin")
    assert code == 0 and json.loads(run("pack", "list", "--json")[1])[0]["retired"] is True
    code, out = run("pack", "rollback", "labkit-builtin")
    assert code == 2 and "no earlier version" in out
    # retired: the package's own folders again
    assert not discover(data_dir=data_dir).specs["clap_lamp"].folder.is_relative_to(installed)


def test_pack_errors_in_chinese_by_default(tmp_path: Path) -> None:
    junk = tmp_path / "junk.labpack"
    junk.write_bytes(b"not a pack" * 10)
    result = CliRunner().invoke(main, ["pack", "verify", str(junk)], env={"LABKIT_LANG": "zh_CN"})
    assert result.exit_code == 2 and "压缩包" in result.output


def test_pack_verify_of_junk_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.labpack"
    junk.write_bytes(b"not a pack" * 10)
    code, out = run("pack", "verify", str(junk))
    assert code == 2 and "not a readable" in out
