"""A program hears the command words the class taught (`heard("开灯")`): the kit's microphone
listens for it, with the words saved (sealed) on the sound page. Speech is espeak-ng's,
injected into the simulated microphone; each hearing is reported once, an untaught word is
refused with the list of taught ones, and a kit taught nothing says so."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labkit.atrest import sealer_for
from labkit.audio_ai.commands import BACKGROUND, CommandWords
from labkit.drivers.tts import synthesize
from tests.unit.sandbox.test_kit_services import STUDENT, out, run
from tests.web.test_audio_page import padded

VOICES = ("", "m1", "m3", "f2", "f4")


@pytest.fixture(scope="module")
def taught(model_store: Any) -> Any:
    """开灯 and 关灯 (five voices each) and the background, trained once for the module."""
    words = CommandWords(threshold=0.5, store=model_store)
    for word in ("开灯", "关灯"):
        for i, voice in enumerate(VOICES):
            words.add_example(word, padded(synthesize(word, "zh_CN", variant=voice,
                                                      speed=130 + 10 * i), seed=i))
    for i, other in enumerate(("你好", "谢谢", "老师", "苹果")):
        words.add_example(BACKGROUND, padded(synthesize(other, "zh_CN", variant=VOICES[i]),
                                             seed=i))
    words.add_example(BACKGROUND, (np.random.default_rng(3).standard_normal(32000) * 40
                                   ).astype(np.int16))
    words.train()
    yield words
    words.close()


def save_on_the_kit(runtime: Any, taught: Any, model_store: Any) -> Path:
    """Save the words as the sound page does: sealed, in the kit's data dir, whose model
    store has the same speech embedding."""
    data_dir = Path(runtime.settings.data_dir)
    if not (data_dir / "models").exists():
        (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    runtime.services.pop("model_store", None)
    folder = data_dir / "audio" / "commands"
    folder.mkdir(parents=True, exist_ok=True)
    taught.save(folder, sealer_for(data_dir))
    return folder


LISTEN = (
    "import time\n"
    "from labkit.program import heard\n"
    "print('asked', heard('开灯'), flush=True)\n"
    "deadline = time.monotonic() + 30\n"
    "while not heard('开灯') and time.monotonic() < deadline:\n"
    "    time.sleep(0.05)\n"
    "print('开灯', time.monotonic() < deadline)\n"
    "print('again', heard('开灯'))\n"
    "print('关灯', heard('关灯'))\n"
    "try:\n"
    "    heard('飞起来')\n"
    "except Exception as exc:\n"
    "    print('refused', exc)\n")


def test_a_program_hears_a_taught_word_once(runtime: Any, taught: Any,
                                             model_store: Any) -> None:
    folder = save_on_the_kit(runtime, taught, model_store)
    assert (folder / "commands.onnx").read_bytes().startswith(b"LKENC1")     # sealed at rest
    # heard before the program started (as the recogniser reports it): not this program's
    runtime._words_now()._heard("开灯", 0.9)
    program_run = runtime.sandbox.start(LISTEN, STUDENT)
    deadline = time.monotonic() + 60
    while "asked False" not in out(program_run) and time.monotonic() < deadline \
            and program_run.result is None:
        time.sleep(0.05)                       # the program has asked: the kit listens
    runtime.microphone.inject(padded(synthesize("开灯", "zh_CN", variant="m2"), seed=7))
    result = program_run.wait(90)
    assert result is not None and result["reason"] == "done", out(program_run, "stderr")
    lines = out(program_run)
    assert lines[:4] == ["asked False", "开灯 True", "again False", "关灯 False"]
    assert lines[4].startswith("refused") and "开灯" in lines[4] and "关灯" in lines[4]


def test_bad_words_and_a_kit_taught_no_words_are_refused_clearly(runtime: Any) -> None:
    program_run, result = run(runtime, (
        "from labkit.program import connection, heard\n"
        "for word in ('', 'x' * 41, 7):\n"
        "    try:\n"
        "        connection().call('audio.heard', word=word)\n"
        "    except Exception as exc:\n"
        "        print('refused', exc.code, exc)\n"
        "heard('开灯')\n"))
    lines = out(program_run)
    assert len(lines) == 3 and all(line.startswith("refused bad_value") and "开灯" in line
                                   for line in lines)
    assert result["reason"] == "error"
    last = out(program_run, "stderr")[-1]
    assert last.startswith("labkit.sandbox.kitpins.KitError") and "声音" in last
