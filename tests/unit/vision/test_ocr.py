"""TextReader: render Chinese and English text with PIL + a CJK font, read it back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
LINES = ["人工智能实验室", "Hello Raspberry Pi", "你好，世界！学习编程", "Labkit 2024 树莓派",
         "红灯停 绿灯行", "Computer Vision 计算机视觉"]


def render(lines: list[str], size: int = 30, colour: tuple[int, int, int] = (0, 0, 0),
           background: str = "white", angle: float = 0.0) -> np.ndarray:
    if not FONT.exists():
        pytest.fail(f"{FONT} is missing: apt-get install fonts-wqy-microhei")
    font = ImageFont.truetype(str(FONT), size)
    img = Image.new("RGB", (720, 60 + len(lines) * int(size * 1.9)), background)
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((30, 30 + i * int(size * 1.9)), text, font=font, fill=colour)
    if angle:
        img = img.rotate(angle, expand=True, fillcolor=background)
    return cv2.cvtColor(np.array(img), cv2.COLOR_RGB2BGR)


def char_accuracy(read: str, truth: str) -> float:
    """1 − edit distance / length, ignoring spaces (OCR may drop or add them)."""
    a, b = read.replace(" ", "").replace("\n", ""), truth.replace(" ", "").replace("\n", "")
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return 1.0 - prev[-1] / max(1, len(b))


@pytest.fixture(scope="module")
def reader(model_store: Any) -> Any:
    from labkit.vision import TextReader

    r = TextReader(store=model_store)
    yield r
    r.close()


def test_reads_chinese_and_english(reader: Any) -> None:
    result = reader.detect(render(LINES))
    truth = "\n".join(LINES)
    assert char_accuracy(result.text, truth) >= 0.95, result.text
    # reading order: line by line, top to bottom
    tops = [line.box.y for line in result.lines]
    assert tops == sorted(tops)
    assert all(0 <= ln.box.x < 720 and ln.score >= 0.5 for ln in result.lines)


def test_coloured_small_and_tilted_text(reader: Any) -> None:
    lines = LINES[:3]
    for image in (render(lines, size=22, colour=(30, 30, 140), background="#ffeeaa"),
                  render(lines, angle=4.0)):
        assert char_accuracy(reader.detect(image).text, "\n".join(lines)) >= 0.95


def test_signals(reader: Any) -> None:
    reader.detect(render(["红灯停 绿灯行", "STOP"]))
    assert reader.value == 1 and reader.count.value == 2
    assert reader.contains("停").value == 1 and reader.contains("stop").value == 1
    assert reader.contains("走").value == 0
    reader.detect(np.full((200, 300, 3), 255, np.uint8))
    assert reader.value == 0 and reader.label.value == "" and reader.contains("停").value == 0
