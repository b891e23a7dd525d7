"""Reading text (Chinese and English) with the rapidocr library and the store's PP-OCRv4 models.

    reader = TextReader(Camera())
    led.source = reader.contains("停").values     # LED on while a 停 sign is in view
    print(reader.detect(photo).text)

rapidocr does the OCR pipeline (DB text detection → direction classifier → CRNN recogniser);
the kit only hands it the model files from its model store (verified, offline — rapidocr would
otherwise fetch models from the internet) and turns its output into plain dataclasses in the
frame's pixels, lines in reading order (top to bottom, then left to right).

OCR is slow next to the other tasks (0.2–2 s a frame on a Pi), so with a camera it runs at most
`max_fps` times a second (default 1) on the newest frame.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from labkit.errors import LabkitError
from labkit.vision.device import Signal, VisionDetector, default_store
from labkit.vision.frames import Prepared, to_bgr
from labkit.vision.types import Box

DET, CLS, REC = "ocr_det", "ocr_cls", "ocr_rec"


@dataclass(frozen=True)
class TextLine:
    text: str
    score: float
    box: Box                                     # axis-aligned box around the line
    quad: tuple[tuple[float, float], ...]        # the four corners rapidocr found


@dataclass(frozen=True)
class TextResult:
    lines: tuple[TextLine, ...]
    width: int
    height: int

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def text(self) -> str:
        """All lines, in reading order, one per line."""
        return "\n".join(line.text for line in self.lines)


def reading_order(lines: list[TextLine]) -> list[TextLine]:
    """Top to bottom; boxes whose vertical middles are within half a line height are one row,
    read left to right."""
    rows: list[list[TextLine]] = []
    for line in sorted(lines, key=lambda ln: ln.box.center[1]):
        if rows and abs(line.box.center[1] - rows[-1][0].box.center[1]) < 0.5 * max(
                line.box.h, rows[-1][0].box.h):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [ln for row in rows for ln in sorted(row, key=lambda ln: ln.box.x)]


def make_engine(store: Any, threads: int = 2) -> Any:
    """A RapidOCR engine over the store's model files (PP-OCRv4 det/cls/rec + keys)."""
    from labkit.models.runtime import onnxruntime_module

    onnxruntime_module()        # rapidocr makes its own sessions: telemetry off first
    try:
        from rapidocr import EngineType, OCRVersion, RapidOCR
    except ImportError as exc:
        raise LabkitError(f"the OCR library is not installed ({exc})", code="no_runtime",
                          fix="pip install 'rapidocr>=3.4,<4'") from None
    params = {
        "Global.log_level": "error",
        "Det.engine_type": EngineType.ONNXRUNTIME, "Det.ocr_version": OCRVersion.PPOCRV4,
        "Det.model_path": str(store.path(DET)),
        "Cls.engine_type": EngineType.ONNXRUNTIME, "Cls.ocr_version": OCRVersion.PPOCRV4,
        "Cls.model_path": str(store.path(CLS)),
        "Rec.engine_type": EngineType.ONNXRUNTIME, "Rec.ocr_version": OCRVersion.PPOCRV4,
        "Rec.model_path": str(store.path(REC)),
        "Rec.rec_keys_path": str(store.file(REC, "ppocr_keys.txt")),
        "EngineConfig.onnxruntime.intra_op_num_threads": int(threads),
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
    }
    engine = RapidOCR(params=params)
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return engine


class TextReader(VisionDetector[TextResult]):
    """Reads text lines. `value` is 1 while any text is in view; `label` is the first line,
    `score` its confidence; `contains("word")` is 1 while the text contains the word."""

    topic = "vision.ocr"

    def __init__(self, camera: Any = None, *, min_score: float = 0.5, store: Any = None,
                 max_fps: float | None = 1.0, **kwargs: Any) -> None:
        self.store = store if store is not None else default_store()
        self.engine = make_engine(self.store, getattr(self.store, "threads", 2))
        self.min_score = min_score
        super().__init__(camera, max_fps=max_fps, **kwargs)

    def _detect(self, frame: Prepared) -> TextResult:
        out = self.engine(frame.image)
        sx = frame.size[0] / frame.image.shape[1]
        sy = frame.size[1] / frame.image.shape[0]
        lines = []
        boxes = out.boxes if out.boxes is not None else []
        for quad, text, score in zip(boxes, out.txts or (), out.scores or (), strict=False):
            if score < self.min_score or not text.strip():
                continue
            pts = np.asarray(quad, np.float64) * (sx, sy)
            lo, hi = pts.min(0), pts.max(0)
            lines.append(TextLine(text, float(score), Box.from_xyxy(lo[0], lo[1], hi[0], hi[1]),
                                  tuple((float(x), float(y)) for x, y in pts)))
        return TextResult(tuple(reading_order(lines)), frame.size[0], frame.size[1])

    def summary(self, result: TextResult) -> tuple[int, str, float]:
        first = result.lines[0] if result.lines else None
        return (len(result.lines), first.text if first else "", first.score if first else 0.0)

    def contains(self, word: str) -> Signal:
        """1 while the text read contains `word` (case-insensitive for Latin letters)."""
        needle = word.casefold()

        def has(result: TextResult | None) -> int:
            if result is None:
                return 0
            text = result.text.casefold()
            return 1 if needle in text or needle in text.replace(" ", "") else 0

        return self.signal(f"contains({word})", has)

    @staticmethod
    def draw(frame: Any, result: TextResult) -> np.ndarray:
        """Boxes around each line (the text itself is drawn by the page, which has the fonts)."""
        image = to_bgr(frame).copy()
        for line in result.lines:
            pts = np.asarray(line.quad, np.float64).round().astype(np.int32)
            cv2.polylines(image, [pts], True, (0, 160, 255), 2, cv2.LINE_AA)
        return image
