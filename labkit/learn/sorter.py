"""A picture sorter that learns from labelled examples when it is built, then sorts the camera's
pictures live — with its honest held-out figures beside it.

    sorter = ImageSorter(Camera(), examples="waste")
    rgb.source = ...                     # choose(sorter.label, {recyclable: blue, ...})
    sorter.report["accuracy"]            # measured on pictures it never trained on
    sorter.report["confusion"]           # rows: the true bin, columns: the sorter's answer

Two held-out measurements (labkit/models/evaluation.py, split before anything is trained):
new *pictures* of item kinds it learned (`report`), and item *kinds* it never saw
(`report["unseen"]`, every picture of one kind is one group). A test picture of a can when
it trained on other cans is an easy test; a can it never saw tells whether it learned
"recyclable" or only "those cans". The kept model is trained on every picture, as every
teachable model in the kit is; live confidences are shrunk by the first measurement's skill.

Examples are drawn on the spot (labkit/drivers/waste.py): no photographs of anyone, the same
pictures on every kit, and test pictures (`variant` numbers above `per_item`) that no model
was trained on.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.vision.device import Signal, VisionDetector
from labkit.vision.frames import Prepared

#: the class for "nothing on the table"
EMPTY = "empty"
#: how often the held-out report card rides along with a result
REPORT_EVERY_SECONDS = 2.0
EXAMPLE_SETS = ("waste",)
_cache: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class SortResult:
    """The sorter's answer for one picture; `probabilities` in `classes` order."""

    label: str
    confidence: float
    probabilities: dict[str, float]
    width: int
    height: int


def crop_object(image: np.ndarray, margin: float = 0.15) -> np.ndarray | None:
    """The part of the picture that differs from the table (the frame's typical colour), with
    a margin; None when nothing stands out (an empty table).

    Why: a small item anywhere on a big table gives a whole-frame feature little to go on;
    found first and cut out, it fills the picture the classifier sees, wherever it lies."""
    import cv2

    small = cv2.resize(image, (160, 120), interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(small, cv2.COLOR_BGR2LAB).astype(np.int16)
    table = np.median(lab.reshape(-1, 3), axis=0)
    diff = np.abs(lab - table).sum(axis=2)
    mask = (diff > 40).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    if int(mask.sum()) < 12:
        return None
    ys, xs = np.nonzero(mask)
    h, w = image.shape[:2]
    fx, fy = w / 160, h / 120
    x0, x1, y0, y1 = xs.min() * fx, (xs.max() + 1) * fx, ys.min() * fy, (ys.max() + 1) * fy
    side = max(x1 - x0, y1 - y0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    a0, b0 = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    a1, b1 = int(min(w, cx + side / 2)), int(min(h, cy + side / 2))
    return image[b0:b1, a0:a1]


class ObjectFeatures:
    """Shape (HOG on 32×32 grey) and colour (HSV histogram) of the cut-out object, and how
    much of the frame it fills; an empty table gives zeros and a flag."""

    name = "object_hog_colour/1"

    def __init__(self) -> None:
        import cv2

        self._hog = cv2.HOGDescriptor((32, 32), (16, 16), (8, 8), (8, 8), 9)
        self.dim = int(self._hog.getDescriptorSize()) + 8 * 4 * 4 + 2

    def extract(self, images: list[np.ndarray]) -> np.ndarray:
        import cv2

        rows = np.zeros((len(images), self.dim), np.float32)
        for i, image in enumerate(images):
            crop = crop_object(np.asarray(image))
            if crop is None or crop.size == 0:
                rows[i, -1] = 1.0
                continue
            grey = cv2.cvtColor(cv2.resize(crop, (32, 32), interpolation=cv2.INTER_AREA),
                                cv2.COLOR_BGR2GRAY)
            hog = self._hog.compute(grey).reshape(-1)
            hsv = cv2.cvtColor(cv2.resize(crop, (48, 48), interpolation=cv2.INTER_AREA),
                               cv2.COLOR_BGR2HSV)
            hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256])
            hist = hist.reshape(-1) / max(float(hist.sum()), 1.0)
            share = crop.shape[0] * crop.shape[1] / (image.shape[0] * image.shape[1])
            rows[i] = np.concatenate([hog, np.sqrt(hist), [share, 0.0]])
        return rows


def waste_examples(per_item: int, size: tuple[int, int] = (240, 320)
                   ) -> tuple[list[np.ndarray], list[str], list[str]]:
    """Pictures, bin labels and item kinds: `per_item` variants of each item, and as many
    empty tables (three lighting groups) as a bin has pictures."""
    from labkit.drivers import scenes, waste

    h, w = size
    images, labels, kinds = [], [], []
    for item, bin_ in waste.ITEMS.items():
        for variant in range(1, per_item + 1):
            images.append(scenes.render("waste", {"item": item, "variant": variant}, 0.0, w, h))
            labels.append(bin_)
            kinds.append(item)
    per_bin = per_item * len(next(iter(waste.BINS.values())))
    for i in range(per_bin):
        group = i % 3
        images.append(scenes.render("empty", {"dark": 0.12 * group + 0.02 * (i // 3)}, 0.0, w, h))
        labels.append(EMPTY)
        kinds.append(f"empty_{group}")
    return images, labels, kinds


def train_sorter(examples: str = "waste", *, per_item: int = 6, classifier: str = "logistic",
                 seed: int = 0) -> tuple[Any, dict[str, Any]]:
    """(classifier, report) for an example set, trained once per process and parameters."""
    if examples not in EXAMPLE_SETS:
        raise ValueError(f"unknown examples {examples!r}; known: {', '.join(EXAMPLE_SETS)}")
    if not 3 <= int(per_item) <= 40:
        raise ValueError("per_item must be 3 to 40 pictures of each item")
    key = (examples, int(per_item), classifier, int(seed))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
        from labkit.models.trainable import train_classifier

        images, labels, kinds = waste_examples(int(per_item))
        extractor = ObjectFeatures()
        X = extractor.extract(images)
        # the kept model and its figures: held-out *pictures* (other pictures of the same
        # kinds of item were trained on)
        clf = train_classifier(X, labels, kind=classifier, seed=int(seed))
        report = _report(clf, kinds)
        # the harder, honest question: item kinds it never saw (each kind one group)
        unseen = train_classifier(X, labels, kind=classifier, groups=kinds, seed=int(seed))
        report["unseen"] = _report(unseen, kinds)
        _cache[key] = ((clf, extractor), report)
        return _cache[key]


def _report(clf: Any, kinds: list[str]) -> dict[str, Any]:
    """The held-out figures as the page shows them: accuracy, per class, the confusion
    matrix, which item kinds were held out, and every mistake with the item it was."""
    m = clf.metrics
    held_out = sorted({kinds[i] for i in clf.test_indices})
    mistakes = [{"item": kinds[w["index"]], "true": w["true"], "predicted": w["predicted"],
                 "confidence": round(float(w["confidence"]), 3)} for w in clf.misclassified]
    return {"classes": list(clf.classes), "measured": bool(m["measured"]),
            "accuracy": None if m["accuracy"] is None else round(float(m["accuracy"]), 4),
            "chance": m["chance"], "n_test": int(len(clf.test_indices)),
            "n_train": int(len(clf.train_indices)), "held_out_items": held_out,
            "per_class": m["per_class"], "confusion": np.asarray(clf.confusion).tolist(),
            "warnings": m["warnings"], "mistakes": mistakes}


class ImageSorter(VisionDetector[SortResult]):
    """Sorts each picture into one of the example set's classes. `value` is 1 while
    something (not the empty table) is in view; `label` is its class, `score` the calibrated
    confidence; `accuracy`, `measured` and `mistakes` are the held-out figures.

    examples    the labelled example set ("waste": four bins and the empty table)
    per_item    training pictures of each item kind
    classifier  logistic | knn | mlp (labkit.models.trainable)
    min_confidence  below this the answer is "" (not sure), so an output need not guess
    """

    topic = "vision.sorter"

    def __init__(self, camera: Any = None, examples: str = "waste", *, per_item: int = 6,
                 classifier: str = "logistic", seed: int = 0, min_confidence: float = 0.0,
                 **kwargs: Any) -> None:
        (self._clf, self._extractor), self.report = train_sorter(
            examples, per_item=per_item, classifier=classifier, seed=seed)
        if not 0.0 <= float(min_confidence) < 1.0:
            raise ValueError("min_confidence must be from 0 to below 1")
        self.min_confidence = float(min_confidence)
        super().__init__(camera, **kwargs)
        # the report card rides along every few seconds (a page opened mid-run gets it soon)
        # rather than on every result; by the clock, not by frames, so a kit that sorts only
        # a frame every few seconds under load still shows it promptly
        self._report_sent = float("-inf")
        self.json_extras.append(self._report_extra)

    def _report_extra(self) -> dict[str, Any]:
        now = time.monotonic()
        if now - self._report_sent < REPORT_EVERY_SECONDS:
            return {}
        self._report_sent = now
        return {"report": self.report}

    @property
    def classes(self) -> list[str]:
        return list(self._clf.classes)

    def _detect(self, frame: Prepared) -> SortResult:
        proba = self._clf.predict_proba(self._extractor.extract([frame.image]))[0]
        best = int(np.argmax(proba))
        label = self._clf.classes[best]
        confidence = float(proba[best])
        if confidence < self.min_confidence:
            label = ""
        return SortResult(label, confidence,
                          {c: round(float(p), 4) for c, p in zip(self._clf.classes, proba, strict=True)},
                          frame.size[0], frame.size[1])

    def summary(self, result: SortResult) -> tuple[int, str, float]:
        found = result.label not in ("", EMPTY)
        return (1 if found else 0, result.label if found else "",
                result.confidence if found else 0.0)

    @property
    def accuracy(self) -> Signal:
        """Held-out accuracy 0–1 (0 when too few examples to measure: never a made-up 100%)."""
        value = self.report["accuracy"]
        return self.signal("accuracy", lambda r: value if value is not None else 0.0)

    @property
    def unseen_accuracy(self) -> Signal:
        """Held-out accuracy on item kinds it never trained on (0 when not measured)."""
        value = self.report["unseen"]["accuracy"]
        return self.signal("unseen_accuracy", lambda r: value if value is not None else 0.0)

    @property
    def measured(self) -> Signal:
        """1 when the held-out accuracy could be measured."""
        return self.signal("measured", lambda r: 1 if self.report["measured"] else 0)

    @property
    def mistakes(self) -> Signal:
        """How many held-out pictures the sorter got wrong."""
        return self.signal("mistakes", lambda r: len(self.report["mistakes"]))

    def bin_is(self, name: str) -> Signal:
        """1 while the picture is sorted into `name` (the same as label_is)."""
        return self.label_is(name)
