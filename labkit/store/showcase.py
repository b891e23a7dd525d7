"""Showcase cards (作品展示): one card per student for an open day — their project's title,
the problem, their results, their ethics checklist and one picture they chose.

Stored as files under `<data dir>/showcase/<class id>/<student id>.json` (+ `.jpg`). The
picture is decoded and re-encoded as JPEG (at most 1280 px) so nothing but pixels is kept —
no EXIF location or camera data — and a file that is not a picture is refused. Both files are
sealed with the kit's data key (labkit.atrest): a child's picture and words are never readable
on the card; a file an older kit wrote in clear is read as is and sealed at its next save.
"""

from __future__ import annotations

import io
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from labkit.atrest import SealBroken, sealer_for
from labkit.store.problems import N_, Problem

#: the ethics checklist every card answers (ids; the page translates them)
ETHICS_ITEMS = ("consent", "no_identification", "data_minimal", "tested_fairly", "limits_stated")
MAX_TITLE = 60
MAX_TEXT = 600
MAX_PICTURE_BYTES = 8 * 1024 * 1024
MAX_SIDE = 1280


@dataclass
class Card:
    class_id: int
    student_id: int
    title: str = ""
    problem: str = ""
    results: str = ""
    ethics: list[str] = field(default_factory=list)
    has_picture: bool = False
    updated_at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _clean(text: Any, limit: int, what: str) -> str:
    value = " ".join(str(text or "").split()) if what == "title" else str(text or "").strip()
    if len(value) > limit:
        raise Problem(N_("A text of the card is too long (at most %(n)s characters)."),
                      fix=N_("Shorten it and save again."), code="bad_input", n=limit)
    return value


class ShowcaseCards:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.sealer = sealer_for(self.root.parent)    # <data>/showcase

    def _path(self, class_id: int, student_id: int, suffix: str) -> Path:
        return self.root / str(int(class_id)) / f"{int(student_id)}{suffix}"

    def get(self, class_id: int, student_id: int) -> Card | None:
        try:
            data = json.loads(self.sealer.read(self._path(class_id, student_id, ".json")))
        except (OSError, ValueError, SealBroken):
            return None
        return Card(**{k: data[k] for k in Card.__dataclass_fields__ if k in data})

    def for_class(self, class_id: int) -> list[Card]:
        folder = self.root / str(int(class_id))
        cards = []
        for p in sorted(folder.glob("*.json")) if folder.is_dir() else ():
            if p.stem.isdigit():
                card = self.get(class_id, int(p.stem))
                if card is not None:
                    cards.append(card)
        return cards

    def save(self, class_id: int, student_id: int, *, title: Any, problem: Any, results: Any,
             ethics: list[str], picture: bytes | None = None) -> Card:
        """Validate everything first, then write: a refused save changes nothing."""
        unknown = [e for e in ethics if e not in ETHICS_ITEMS]
        if unknown:
            raise Problem(N_("Unknown ethics checklist item."), fix=N_("Tick items of the list."),
                          code="bad_input")
        card = self.get(class_id, student_id) or Card(class_id, student_id)
        card.title = _clean(title, MAX_TITLE, "title")
        card.problem = _clean(problem, MAX_TEXT, "problem")
        card.results = _clean(results, MAX_TEXT, "results")
        if not card.title:
            raise Problem(N_("Give your project a title."), fix=N_("Type a title and save again."),
                          code="bad_input")
        card.ethics = [e for e in ETHICS_ITEMS if e in ethics]
        jpeg = _reencode(picture) if picture else None
        if jpeg is not None:
            self.sealer.write(self._path(class_id, student_id, ".jpg"), jpeg)
            card.has_picture = True
        card.updated_at = time.time()
        self.sealer.write(self._path(class_id, student_id, ".json"),
                          json.dumps(card.to_json(), ensure_ascii=False).encode("utf-8"))
        return card

    def picture(self, class_id: int, student_id: int) -> bytes | None:
        try:
            return self.sealer.read(self._path(class_id, student_id, ".jpg"))
        except (OSError, SealBroken):
            return None


    def seal_clear_files(self) -> int:
        """Seal the cards and pictures an older kit wrote in clear (run on start); how many."""
        if not self.root.is_dir():
            return 0
        return self.sealer.seal_all(sorted(self.root.glob("*/*.json"))
                                    + sorted(self.root.glob("*/*.jpg")))


def _reencode(data: bytes) -> bytes:
    from PIL import Image, UnidentifiedImageError

    if len(data) > MAX_PICTURE_BYTES:
        raise Problem(N_("The picture is too large (at most 8 MB)."),
                      fix=N_("Choose a smaller picture."), code="bad_input")
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            rgb = img.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise Problem(N_("That file is not a picture."),
                      fix=N_("Choose a JPEG or PNG picture."), code="bad_input") from None
    rgb.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=85)
    return out.getvalue()
