from pathlib import Path

import pytest

from labkit.config import Settings
from labkit.errors import LabkitError


def test_defaults_are_chinese_auto_8080():
    s = Settings.from_env({})
    assert (s.lang, s.hardware, s.port) == ("zh_CN", "auto", 8080)


def test_env_overrides(tmp_path: Path):
    s = Settings.from_env({"LABKIT_DATA": str(tmp_path), "LABKIT_HARDWARE": "sim",
                           "LABKIT_LANG": "en", "LABKIT_PORT": "9000", "LABKIT_HOST": "127.0.0.1"})
    assert s.data_dir == tmp_path and s.hardware == "sim" and s.lang == "en"
    assert s.port == 9000 and s.host == "127.0.0.1"
    assert s.models_dir == tmp_path / "models"


@pytest.mark.parametrize("env, word", [
    ({"LABKIT_HARDWARE": "fake"}, "LABKIT_HARDWARE"),
    ({"LABKIT_LANG": "fr"}, "LABKIT_LANG"),
    ({"LABKIT_PORT": "eighty"}, "LABKIT_PORT"),
    ({"LABKIT_PORT": "70000"}, "LABKIT_PORT"),
])
def test_bad_settings_name_the_variable_and_the_fix(env, word):
    with pytest.raises(LabkitError) as err:
        Settings.from_env(env)
    assert word in err.value.message and err.value.fix


def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(LabkitError, match="not writable"):
        Settings(data_dir=blocker / "sub").ensure_data_dir()
