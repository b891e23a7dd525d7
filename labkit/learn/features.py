"""Feature extractors: turn one kind of sample into a fixed-length vector for the classifier.

| kind   | extractor (name)                     | what it sees                                   |
|--------|--------------------------------------|------------------------------------------------|
| image  | `efficientnet_lite0/1` (model store) | ImageNet features, 1280-d — learns from ~20 photos
| image  | `hog_colour/1` (always available)    | edges (HOG 64×64) + HSV colour histogram         |
| hand   | `hand_landmarks/1`                   | 21 landmarks, wrist-centred, scale-free        |
| pose   | `pose_landmarks/1`                   | 33 landmarks, hip-centred, torso-scaled + visibility |
| sound  | `speech_embedding/1` (model store)   | pretrained speech embedding, mean+max 192-d     |
| sound  | `log_mel/1` (always available)       | labkit.audio_ai.features.clip_features (32×40)  |
| sensor | `sensor_window/1`                    | mean/std/min/max/slope of each channel         |

An extractor returns one row per sample; a sample it cannot read (no hand in the picture)
becomes a row of NaN so the trainer can drop it and say how many. The extractor's `name` is
stored with a trained model, so live prediction and an imported model always use the same one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

log = logging.getLogger(__name__)

EMBEDDER_MODEL = "efficientnet_lite0_features"
EMBEDDER_MODEL_INT8 = "efficientnet_lite0_features_int8"
HOG_SIZE = 64
HAND_POINTS = 21
POSE_POINTS = 33


class Extractor:
    """Base: `name`, `kind`, `dim`, and `extract(payloads) -> float32 [n, dim]`."""

    name = "base"
    kind = ""
    dim = 0
    #: "image" when the extractor is itself an ONNX graph that export can merge in front of
    #: the classifier; "features" when the runtime computes features before the ONNX model.
    graph_input = "features"

    def extract(self, payloads: Sequence[Any]) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def augmenter(self, payloads: Sequence[Any], labels: Sequence[str], *, seed: int = 0
                  ) -> Callable[[np.ndarray], tuple[np.ndarray, list[str]]] | None:
        """Extra training rows made from the given sample rows only, or None for none.

        The trainer calls it with training rows for the held-out measurement and with every
        row for the kept model (labkit.models.trainable), so a copy of a test sample is never
        trained on."""
        return None

    def extract_one(self, payload: Any) -> np.ndarray:
        return self.extract([payload])[0]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "dim": self.dim,
                "graph_input": self.graph_input}


# ---------------------------------------------------------------------------------------------
# images
# ---------------------------------------------------------------------------------------------

class HogColourExtractor(Extractor):
    """Shape (HOG on a 64×64 grey image) + colour (8×4×4 HSV histogram): no model needed."""

    name = "hog_colour/1"
    kind = "image"

    def __init__(self) -> None:
        import cv2

        self._hog = cv2.HOGDescriptor((HOG_SIZE, HOG_SIZE), (16, 16), (8, 8), (8, 8), 9)
        self.dim = int(self._hog.getDescriptorSize()) + 8 * 4 * 4

    def extract(self, payloads: Sequence[Any]) -> np.ndarray:
        import cv2

        rows = np.zeros((len(payloads), self.dim), np.float32)
        for i, img in enumerate(payloads):
            img = np.asarray(img)
            small = cv2.resize(img, (HOG_SIZE, HOG_SIZE), interpolation=cv2.INTER_AREA)
            grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
            hog = self._hog.compute(grey).reshape(-1)
            hsv = cv2.cvtColor(cv2.resize(img, (96, 96), interpolation=cv2.INTER_AREA),
                               cv2.COLOR_BGR2HSV)
            hist = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256])
            hist = hist.reshape(-1) / max(float(hist.sum()), 1.0)
            rows[i] = np.concatenate([hog, np.sqrt(hist)])
        return rows


class EmbeddingExtractor(Extractor):
    """EfficientNet-Lite0 features (labkit.models.efficientnet) run from the model store."""

    name = "efficientnet_lite0/1"
    kind = "image"
    dim = 1280
    graph_input = "image"
    batch = 16

    def __init__(self, onnx_bytes: bytes | None = None, threads: int = 2,
                 model_name: str = EMBEDDER_MODEL, *, path: Path | None = None) -> None:
        from labkit.models.efficientnet import INPUT_NAME, OUTPUT_NAME
        from labkit.models.runtime import onnx_session

        if onnx_bytes is None and path is None:
            raise ValueError("an embedder needs its graph's bytes or its path")
        self._bytes, self.path = onnx_bytes, path
        self.model_name = model_name
        # from the file when there is one: the serving process then holds no copy of the
        # weights in Python, and ONNX Runtime needs no second buffer to parse them from
        self.session = onnx_session(onnx_bytes if onnx_bytes is not None else path,
                                    threads=threads)
        self.input_name, self.output_name = INPUT_NAME, OUTPUT_NAME

    @property
    def onnx_bytes(self) -> bytes:
        """The graph (read from its file when needed: training merges it into the model)."""
        if self._bytes is not None:
            return self._bytes
        assert self.path is not None
        return Path(self.path).read_bytes()

    @onnx_bytes.setter
    def onnx_bytes(self, value: bytes | None) -> None:
        self._bytes = value

    @classmethod
    def from_store(cls, store: Any, *, int8: bool = False, threads: int = 2
                   ) -> "EmbeddingExtractor | None":
        """The embedder if `labkit models fetch` installed it, else None (use the fallback)."""
        name = EMBEDDER_MODEL_INT8 if int8 else EMBEDDER_MODEL
        if store is None:
            return None
        try:
            if not store.has(name):
                return None
            return cls(None, threads=threads, model_name=name, path=Path(store.path(name)))
        except (LabkitError, OSError) as exc:
            log.warning("image embedder %s unusable: %s", name, exc)
            return None

    @property
    def sha256(self) -> str:
        """The graph's hash: names the embedder inside a trained model (labkit.learn.int8)."""
        if getattr(self, "_sha256", None) is None:
            import hashlib

            self._sha256: str | None = hashlib.sha256(self.onnx_bytes).hexdigest()
        assert self._sha256 is not None
        return self._sha256

    def extract(self, payloads: Sequence[Any]) -> np.ndarray:
        from labkit.models.efficientnet import preprocess

        out = np.zeros((len(payloads), self.dim), np.float32)
        for start in range(0, len(payloads), self.batch):
            chunk = preprocess(payloads[start:start + self.batch])
            (feats,) = self.session.run([self.output_name], {self.input_name: chunk})
            out[start:start + len(chunk)] = feats
        return out


# ---------------------------------------------------------------------------------------------
# landmarks
# ---------------------------------------------------------------------------------------------

def normalise_hand(landmarks: Any) -> np.ndarray:
    """21×(x, y[, z]) hand landmarks → 63 numbers that describe the hand's shape only.

    Wrist at the origin; turned so the wrist→middle-knuckle line points up; mirrored so the
    index knuckle is always left of the little-finger knuckle (left and right hands, palm or
    back, look the same); divided by the wrist→middle-knuckle length (near or far, same
    vector). What is left is which fingers are bent and how — the gesture.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] != HAND_POINTS or lm.shape[1] < 2:
        raise ValueError(f"hand landmarks must be 21×2 or 21×3, got {lm.shape}")
    if lm.shape[1] == 2:
        lm = np.concatenate([lm, np.zeros((HAND_POINTS, 1))], axis=1)
    lm = lm[:, :3] - lm[0, :3]
    up = lm[9, :2]
    scale = float(np.linalg.norm(up))
    if scale < 1e-6:
        scale = float(np.abs(lm[:, :2]).max()) or 1.0
        up = np.array([0.0, -scale])
    # rotate so `up` becomes (0, -1) (image y grows downwards)
    angle = -np.arctan2(up[0], -up[1])
    c, s_ = np.cos(angle), np.sin(angle)
    x = c * lm[:, 0] - s_ * lm[:, 1]
    y = s_ * lm[:, 0] + c * lm[:, 1]
    if x[5] > x[17]:
        x = -x
    out = np.stack([x, y, lm[:, 2]], axis=1) / scale
    return out.reshape(-1).astype(np.float32)


def normalise_pose(landmarks: Any) -> np.ndarray:
    """33×(x, y[, z[, visibility]]) pose landmarks → 132 numbers (x, y, z, visibility).

    Mid-hip at the origin, divided by the torso length (mid-shoulder to mid-hip), so a child
    near or far, left or right in the picture, makes the same pose vector.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] < POSE_POINTS or lm.shape[1] < 2:
        raise ValueError(f"pose landmarks must be 33×(2..5), got {lm.shape}")
    lm = lm[:POSE_POINTS]
    xyz = np.zeros((POSE_POINTS, 3))
    xyz[:, :min(3, lm.shape[1])] = lm[:, :min(3, lm.shape[1])]
    vis = lm[:, 3] if lm.shape[1] >= 4 else np.ones(POSE_POINTS)
    hips = (xyz[23] + xyz[24]) / 2
    shoulders = (xyz[11] + xyz[12]) / 2
    scale = float(np.linalg.norm((shoulders - hips)[:2]))
    xyz = xyz - hips
    if scale < 1e-6:
        scale = float(np.abs(xyz[:, :2]).max()) or 1.0
    return np.concatenate([(xyz / scale), vis[:, None]], axis=1).reshape(-1).astype(np.float32)


Tracker = Callable[[np.ndarray], Any]


class LandmarkExtractor(Extractor):
    """Landmarks from a tracker (labkit.vision) on each image, normalised as above.

    `tracker(image)` returns the landmarks of the most prominent hand/body (array-like), or None
    when there is none — that sample becomes a NaN row.
    """

    def __init__(self, kind: str, tracker: Tracker) -> None:
        if kind not in ("hand", "pose"):
            raise ValueError(kind)
        self.kind = kind
        self.name = f"{kind}_landmarks/1"
        self.dim = HAND_POINTS * 3 if kind == "hand" else POSE_POINTS * 4
        self._norm = normalise_hand if kind == "hand" else normalise_pose
        self.tracker = tracker

    def extract(self, payloads: Sequence[Any]) -> np.ndarray:
        rows = np.full((len(payloads), self.dim), np.nan, np.float32)
        for i, item in enumerate(payloads):
            arr = np.asarray(item) if not isinstance(item, np.ndarray) else item
            # an image goes through the tracker; a landmark array is used as it is
            if arr.ndim == 3 and arr.shape[2] in (3, 4) and arr.dtype == np.uint8:
                found = self.tracker(arr)
            else:
                found = arr
            if found is None:
                continue
            try:
                rows[i] = self._norm(found)
            except ValueError:
                continue
        return rows


def vision_tracker(kind: str, store: Any) -> Tracker | None:
    """A tracker callable from labkit.vision (HandTracker / PoseTracker), if it is installed.

    Returns None when the vision layer or its models are missing; the learn page then says that
    hand/pose projects need `labkit models fetch`.
    """
    try:
        import labkit.vision as vision
    except ImportError:
        return None
    cls_name = "HandTracker" if kind == "hand" else "PoseTracker"
    try:
        cls = getattr(vision, cls_name)
    except (AttributeError, ImportError):
        return None
    try:
        # every sample is its own picture: detect on each one, never track across them
        kwargs: dict[str, Any] = {"track": False}
        if store is not None:
            kwargs["store"] = store
        tracker = cls(**kwargs)
    except Exception as exc:  # a missing model, an older signature
        log.warning("%s unavailable: %s", cls_name, exc)
        return None
    return _tracker_adapter(tracker, kind)


def _tracker_adapter(tracker: Any, kind: str) -> Tracker:
    """`labkit.vision` detectors answer `detect(image)` with a result whose `best` hand/pose
    has `landmarks` (pixels; pose rows carry visibility). Pull out that one set."""

    def run(image: np.ndarray) -> Any:
        result = tracker.detect(image)
        best = getattr(result, "best", None)
        if best is None:
            return None
        arr = np.asarray(best.landmarks, dtype=np.float64)
        return arr if arr.size else None

    return run


# ---------------------------------------------------------------------------------------------
# sound and sensors
# ---------------------------------------------------------------------------------------------

class SoundExtractor(Extractor):
    """Trimmed, resized, normalised log-mel (the command-word features of labkit.audio_ai)."""

    name = "log_mel/1"
    kind = "sound"

    def __init__(self) -> None:
        from labkit.audio_ai.features import N_FRAMES, N_MELS

        self.dim = N_FRAMES * N_MELS

    def extract(self, payloads: Sequence[Any]) -> np.ndarray:
        from labkit.audio_ai.features import clip_features

        rows = np.full((len(payloads), self.dim), np.nan, np.float32)
        for i, clip in enumerate(payloads):
            arr = np.asarray(clip)
            if arr.size >= 400:
                rows[i] = np.asarray(clip_features(arr), np.float32).reshape(-1)[:self.dim]
        return rows

    def augmenter(self, payloads: Sequence[Any], labels: Sequence[str], *, seed: int = 0
                  ) -> Callable[[np.ndarray], tuple[np.ndarray, list[str]]] | None:
        return _sound_augmenter(self, payloads, labels, seed)


def _sound_augmenter(extractor: Extractor, payloads: Sequence[Any], labels: Sequence[str],
                     seed: int) -> Callable[[np.ndarray], tuple[np.ndarray, list[str]]]:
    """Each clip again in white noise and in babble of the other clips, both at 10 dB: a
    classroom is never as quiet as the moment the examples were recorded."""
    from labkit.audio_ai.commands import AUGMENT_SNR_DB, babble, mix_at, with_noise
    from labkit.drivers.wav import RATE

    cache: dict[int, np.ndarray] = {}

    def augment(rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
        pool = [np.asarray(payloads[r]) for r in rows]
        out, out_labels = [], []
        for r in rows:
            if r not in cache:
                clip = np.asarray(payloads[r]).reshape(-1)
                rng = np.random.default_rng([seed, int(r)])
                others = [c for c in pool if c is not payloads[r]]
                copies = [with_noise(clip, AUGMENT_SNR_DB, rng)]
                if others:
                    copies.append(mix_at(clip, babble(others, clip.size / RATE, rng),
                                         AUGMENT_SNR_DB))
                cache[r] = extractor.extract(copies)
            feats = cache[r][np.isfinite(cache[r]).all(axis=1)]
            out.append(feats)
            out_labels += [labels[r]] * len(feats)
        return (np.concatenate(out) if out else np.zeros((0, extractor.dim))), out_labels

    return augment


class SpeechEmbeddingExtractor(Extractor):
    """The pretrained speech embedding (labkit.audio_ai.embedding): mean+max, 192-d."""

    name = "speech_embedding/1"
    kind = "sound"

    def __init__(self, embedder: Any) -> None:
        from labkit.audio_ai.embedding import DIM

        self.embedder = embedder
        self.dim = DIM

    @classmethod
    def from_store(cls, store: Any) -> "SpeechEmbeddingExtractor | None":
        from labkit.audio_ai.embedding import SpeechEmbedder

        emb = SpeechEmbedder.from_store(store)
        return cls(emb) if emb is not None else None

    def extract(self, payloads: Sequence[Any]) -> np.ndarray:
        rows = np.full((len(payloads), self.dim), np.nan, np.float32)
        for i, clip in enumerate(payloads):
            arr = np.asarray(clip).reshape(-1)
            if arr.size >= 400:
                rows[i] = self.embedder.clip_vector(arr)
        return rows

    def augmenter(self, payloads: Sequence[Any], labels: Sequence[str], *, seed: int = 0
                  ) -> Callable[[np.ndarray], tuple[np.ndarray, list[str]]] | None:
        return _sound_augmenter(self, payloads, labels, seed)


class SensorExtractor(Extractor):
    """Window statistics per channel: mean, std, min, max and slope (units per second)."""

    name = "sensor_window/1"
    kind = "sensor"
    STATS = ("mean", "std", "min", "max", "slope")

    def __init__(self, channels: Sequence[str]) -> None:
        self.channels = list(channels)
        self.dim = len(self.channels) * len(self.STATS)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "channels": self.channels}

    def extract(self, payloads: Sequence[Any]) -> np.ndarray:
        rows = np.full((len(payloads), self.dim), np.nan, np.float32)
        for i, window in enumerate(payloads):
            if not isinstance(window, dict):
                continue
            names = list(window.get("channels", []))
            values = np.asarray(window.get("values", []), dtype=np.float64)
            rate = float(window.get("rate", 10.0)) or 10.0
            if values.ndim != 2 or values.shape[0] < 2 or values.shape[1] != len(names):
                continue
            if any(c not in names for c in self.channels):
                continue
            t = np.arange(values.shape[0]) / rate
            feats = []
            for c in self.channels:
                v = values[:, names.index(c)]
                slope = float(np.polyfit(t, v, 1)[0]) if np.ptp(t) > 0 else 0.0
                feats += [v.mean(), v.std(), v.min(), v.max(), slope]
            rows[i] = feats
        return rows


# ---------------------------------------------------------------------------------------------
# choosing one
# ---------------------------------------------------------------------------------------------

def extractor_for(kind: str, *, store: Any = None, prefer_embedder: bool = True,
                  channels: Sequence[str] = ("distance", "light"),
                  tracker: Tracker | None = None, threads: int = 2) -> Extractor:
    """The best extractor this kit can run for a kind of project."""
    if kind == "image":
        if prefer_embedder:
            emb = EmbeddingExtractor.from_store(store, threads=threads)
            if emb is not None:
                return emb
        return HogColourExtractor()
    if kind in ("hand", "pose"):
        tracker = tracker or vision_tracker(kind, store)
        if tracker is None:
            raise LabkitError(
                _("Hand and body-pose projects need the vision models, which are not installed."),
                code="no_model", fix=_("Ask the teacher to run: labkit models fetch"))
        return LandmarkExtractor(kind, tracker)
    if kind == "sound":
        speech = SpeechEmbeddingExtractor.from_store(store) if prefer_embedder else None
        return speech or SoundExtractor()
    if kind == "sensor":
        return SensorExtractor(channels)
    raise LabkitError(_("Unknown kind of project: %(kind)s.", kind=repr(kind)), code="bad_kind",
                      fix=_("Choose image, hand, pose, sound or sensor."))


def extractor_by_name(name: str, *, store: Any = None, channels: Sequence[str] = ("distance",
                      "light"), tracker: Tracker | None = None) -> Extractor:
    """The extractor a saved/imported model was trained with, or a clear error."""
    if name == HogColourExtractor.name:
        return HogColourExtractor()
    if name == EmbeddingExtractor.name:
        emb = EmbeddingExtractor.from_store(store)
        if emb is None:
            raise LabkitError(_("This model needs the image embedding model, which is not "
                                "installed."), code="no_model",
                              fix=_("Ask the teacher to run: labkit models fetch"))
        return emb
    if name in ("hand_landmarks/1", "pose_landmarks/1"):
        return extractor_for(name.split("_")[0], store=store, tracker=tracker)
    if name == SoundExtractor.name:
        return SoundExtractor()
    if name == SpeechEmbeddingExtractor.name:
        speech = SpeechEmbeddingExtractor.from_store(store)
        if speech is None:
            raise LabkitError(_("This model needs the speech embedding model, which is not "
                                "installed."), code="no_model",
                              fix=_("Ask the teacher to run: labkit models fetch"))
        return speech
    if name == SensorExtractor.name:
        return SensorExtractor(channels)
    raise LabkitError(_("The model uses an unknown feature extractor %(name)s.", name=repr(name)),
                      code="bad_model", fix=_("Export it again from a kit with this version."))
