"""Saved code-lab programs are sealed at rest like every other file a child keeps; programs an
older kit saved in clear are read as they are and sealed on start, atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from labkit import fsutil
from labkit.atrest import SEALED
from labkit.errors import LabkitError
from labkit.sandbox.programs import ProgramBook

SOURCE = "from gpiozero import LED\n# 欧阳明月的第一个程序\nLED(17).on()\n"
WORKSPACE = {"blocks": {"languageVersion": 0, "blocks": [{"type": "labkit_led_on",
                                                          "fields": {"DEVICE": "led"}}]}}


def _clear_program(portfolio: Path, student_id: int, program_id: str) -> Path:
    """A program file as the kit wrote it before programs were sealed."""
    path = portfolio / str(student_id) / "programs" / f"{program_id}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"id": program_id, "student_id": student_id, "name": "旧程序",
                                "source": SOURCE, "saved_at": 1.0}, ensure_ascii=False),
                    encoding="utf-8")
    return path


def test_a_saved_program_and_its_blocks_are_sealed_and_read_back(tmp_path: Path) -> None:
    book = ProgramBook(tmp_path / "portfolio")
    saved = book.save(3, "亮灯", SOURCE, blocks=WORKSPACE)
    stored = (tmp_path / "portfolio" / "3" / "programs" / f"{saved.id}.json").read_bytes()
    assert stored.startswith(SEALED)
    for clear in (b"gpiozero", "欧阳明月".encode(), "亮灯".encode(), b"labkit_led_on"):
        assert clear not in stored
    opened = book.get(3, saved.id)
    assert (opened.source, opened.name, opened.blocks) == (SOURCE, "亮灯", WORKSPACE)
    assert opened.summary()["kind"] == "blocks"
    plain = book.save(3, "只有代码", "print(1)")
    assert book.get(3, plain.id).blocks is None and plain.summary()["kind"] == "python"
    with pytest.raises(LabkitError) as too_big:
        book.save(3, "大", "print(1)", blocks={"blocks": {"x": "x" * 400_001}})
    assert too_big.value.code == "too_large"


def test_clear_programs_of_an_older_kit_are_sealed_on_start(settings: Any) -> None:
    from labkit.runtime import KitRuntime

    portfolio = Path(settings.data_dir) / "portfolio"
    clear = [_clear_program(portfolio, 5, "0123456789ab"),
             _clear_program(portfolio, 6, "ba9876543210")]
    assert ProgramBook(portfolio).get(5, "0123456789ab").source == SOURCE   # clear is read
    runtime = KitRuntime(settings, start_camera=False)
    try:
        assert runtime.sealed_programs_on_start == 2
    finally:
        runtime.close()
    for path in clear:
        data = path.read_bytes()
        assert data.startswith(SEALED) and b"gpiozero" not in data
    assert ProgramBook(portfolio).get(6, "ba9876543210").source == SOURCE
    assert ProgramBook(portfolio).seal_clear_files() == 0       # nothing left to do


def test_a_power_cut_while_sealing_leaves_the_clear_program(tmp_path: Path,
                                                           monkeypatch: Any) -> None:
    portfolio = tmp_path / "portfolio"
    path = _clear_program(portfolio, 7, "0123456789ab")
    before = path.read_bytes()

    def cut(*_args: Any, **_kw: Any) -> None:
        raise OSError("power cut")

    monkeypatch.setattr(fsutil.os, "replace", cut)
    with pytest.raises(OSError):
        ProgramBook(portfolio).seal_clear_files()
    monkeypatch.undo()
    assert path.read_bytes() == before            # the rename never happened: still clear
    assert [p.name for p in path.parent.iterdir()] == [path.name]   # no temp file left
    assert ProgramBook(portfolio).get(7, "0123456789ab").source == SOURCE
    assert ProgramBook(portfolio).seal_clear_files() == 1
