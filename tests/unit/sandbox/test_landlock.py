"""Landlock's read rules where no mount namespace can cover the kit's data dir: everything
beside the way down to a hidden folder is allowed, the way itself and the folder are not."""

from __future__ import annotations

from pathlib import Path

from labkit.sandbox.landlock import readable_around


def test_everything_but_the_hidden_folder_and_its_way_down_is_readable(tmp_path: Path) -> None:
    home = tmp_path / "home"
    data = home / ".local" / "share" / "labkit"
    data.mkdir(parents=True)
    (data / "secret_key").write_text("x")
    (home / ".bashrc").write_text("x")
    (home / ".local" / "bin").mkdir()
    (tmp_path / "srv").mkdir()
    allowed = readable_around([str(data)], root=str(tmp_path))
    assert sorted(allowed) == sorted(str(p) for p in (
        home / ".bashrc", home / ".local" / "bin", tmp_path / "srv"))
    assert not any(a == str(data) or a.startswith(str(data) + "/") for a in allowed)
    assert readable_around([str(tmp_path)], root=str(tmp_path)) == []    # all of it hidden
    # nothing hidden below: everything at the top is allowed whole
    assert sorted(readable_around([str(tmp_path / "elsewhere")], root=str(home))) == sorted(
        str(p) for p in home.iterdir())
