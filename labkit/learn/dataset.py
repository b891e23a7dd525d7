"""A teachable project on disk: one folder per class, one file per sample, one manifest.

    <data>/learn/<project id>/project.json          manifest (atomic rewrite on every change)
    <data>/learn/<project id>/classes/<class id>/class.json   the class's name, for repair
    <data>/learn/<project id>/classes/<class id>/<sample id>.jpg|.wav|.json
    <data>/learn/<project id>/model/...             the trained model (see labkit.learn.model)

Why this shape: a student's samples are the precious part. Every write is atomic
(`labkit.fsutil`), names on disk are generated ids (a class called "../x" or "猫" never becomes
a path), and each class folder carries its own name so a damaged manifest can be rebuilt from
the folders — a corrupt project is reported, never overwritten or deleted.

Privacy: nothing is written unless the student records or uploads a sample; frames are
downscaled and re-encoded (which also drops any EXIF data) before they are kept. Sample files,
cached features and the trained model are sealed with the kit's data key (labkit.atrest) and
opened only in memory; so are the manifests (a project or a class is often named after the
child who made it). `seal_clear_files` seals what an older kit wrote in clear, on start.
"""

from __future__ import annotations

import io
import json
import secrets
import shutil
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from uuid import UUID, uuid4

import numpy as np

from labkit import jsoncheck
from labkit.atrest import SealBroken, Sealer, sealer_for
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _
from labkit.learn.names import MAX_CLASSES, check_class_names, clean_name, name_key

FORMAT = "labkit-learn-project/1"
KINDS = ("image", "hand", "pose", "sound", "sensor")
IMAGE_KINDS = ("image", "hand", "pose")
MAX_PER_CLASS = 500
MAX_TOTAL = 1000
MAX_DECODED_PIXELS = 4_000_000     # what is ever decoded into memory (12 MB as BGR)
MAX_IMAGE_PIXELS = 40_000_000      # what a JPEG may declare: decoded at 1/2, 1/4 or 1/8 scale
REDUCED_JPEG_FLAGS = ((2, "IMREAD_REDUCED_COLOR_2"), (4, "IMREAD_REDUCED_COLOR_4"),
                      (8, "IMREAD_REDUCED_COLOR_8"))
IMAGE_FORMATS = ("JPEG", "MPO", "PNG", "BMP", "WEBP")
STORE_IMAGE_SIDE = 320
MAX_SOUND_SECONDS = 5.0
MAX_SENSOR_READINGS = 2000
SENSOR_CHANNELS = ("distance", "light")
#: a sound project's background class, named in the language of whoever makes it
BACKGROUND_NAME = _("background")


TAKE_PATTERN = "^[A-Za-z0-9_-]{1,40}$"


def check_take(take: Any) -> str:
    """A take id from the page: short letters/digits, or "" for none."""
    import re

    if take in (None, ""):
        return ""
    if not isinstance(take, str) or not re.fullmatch(TAKE_PATTERN, take):
        raise LabkitError(_("The recording take id is not valid."), code="bad_input",
                          fix=_("Reload the page and record again."))
    return take


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def new_id(prefix: str) -> str:
    return f"{prefix}{time.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(3)}"


def _owner(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _valid_id(value: object, prefix: str) -> bool:
    return (isinstance(value, str) and value.startswith(prefix) and 2 <= len(value) <= 40
            and value[len(prefix):].isalnum() and value.isascii())


@dataclass
class Sample:
    id: str
    file: str
    created: str
    source: str = "camera"
    #: one hold of the record button: frames of one take are near-copies of each other, so
    #: evaluation holds a take out whole (labkit.models.evaluation); "" = a take of its own
    take: str = ""

    def to_json(self) -> dict[str, Any]:
        data = {"id": self.id, "file": self.file, "created": self.created, "source": self.source}
        if self.take:
            data["take"] = self.take
        return data

    @property
    def group(self) -> str:
        """The recording this sample belongs to, for a held-out split."""
        return f"take:{self.take}" if self.take else f"sample:{self.id}"


@dataclass
class ClassInfo:
    id: str
    name: str
    samples: list[Sample] = field(default_factory=list)
    #: "background" for a sound project's room-sound class (labkit.learn.background)
    role: str = ""

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "name": self.name,
                                "samples": [s.to_json() for s in self.samples]}
        if self.role:
            data["role"] = self.role
        return data

    def meta(self) -> dict[str, Any]:
        """class.json: what a repair needs to rebuild this class's entry."""
        meta = {"id": self.id, "name": self.name}
        if self.role:
            meta["role"] = self.role
        return meta


def write_json(sealer: Sealer, path: Path, data: Any) -> Path:
    """A manifest, sealed (it names classes and projects, often after a child)."""
    return sealer.write(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def read_json(sealer: Sealer, path: Path) -> Any:
    """A manifest written by `write_json` (or in clear by an older kit); OSError if missing,
    ValueError (SealBroken, bad JSON) if it cannot be read."""
    return json.loads(sealer.read(path).decode("utf-8"))


def corrupt(project_dir: Path, why: str) -> LabkitError:
    return LabkitError(
        _("The saved project in %(folder)s is damaged (%(why)s). Nothing was deleted.",
          folder=project_dir.name, why=why),
        code="corrupt_dataset",
        fix=_("Press Repair to rebuild it from its sample folders."))


# ---------------------------------------------------------------------------------------------
# decoding and encoding samples
# ---------------------------------------------------------------------------------------------

def decode_image(data: bytes) -> np.ndarray:
    """Uploaded or saved bytes → BGR uint8 image; a clear error for anything else.

    The size comes from the header (Pillow reads no pixels to get it) and decides what is
    decoded: at most MAX_DECODED_PIXELS, a larger JPEG at a reduced scale (the DCT makes that
    cheap; samples are stored at 320 px anyway), anything else refused — a 40-megapixel PNG
    costs 120 MB and seconds of CPU to decode. Decoding runs in the bounded worker pool.
    """
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_PIXELS
    if not data:
        raise LabkitError(_("The file is empty."), code="bad_image",
                          fix=_("Choose a JPEG or PNG photo."))
    try:
        with warnings.catch_warnings():
            # over MAX_IMAGE_PIXELS Pillow warns; such an image is refused below anyway
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                width, height = probe.size
                fmt = probe.format
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise LabkitError(_("The file is not an image."), code="bad_image",
                          fix=_("Choose a JPEG or PNG photo.")) from None
    if fmt not in IMAGE_FORMATS:
        raise LabkitError(_("The file is not an image."), code="bad_image",
                          fix=_("Choose a JPEG or PNG photo."))
    pixels = width * height
    scale = 1
    if pixels > MAX_DECODED_PIXELS:
        scale = next((r for r, _flag in REDUCED_JPEG_FLAGS
                      if pixels / (r * r) <= MAX_DECODED_PIXELS), 0)
        if fmt not in ("JPEG", "MPO") or pixels > MAX_IMAGE_PIXELS or not scale:
            raise LabkitError(_("The image is too large (%(w)s × %(h)s pixels).", w=width,
                                h=height),
                              code="too_large", fix=_("Use a photo of at most 4 megapixels, "
                                                      "or a JPEG photo."))
    from labkit.workers import heavy_work

    img = heavy_work(_decode_pixels, data, scale)
    if img is None or img.ndim != 3 or min(img.shape[:2]) < 8:
        raise LabkitError(_("The image could not be read."), code="bad_image",
                          fix=_("Choose a JPEG or PNG photo."))
    if img.shape[0] * img.shape[1] > MAX_DECODED_PIXELS:      # the header lied
        raise LabkitError(_("The image could not be read."), code="bad_image",
                          fix=_("Choose a JPEG or PNG photo."))
    return img


def _decode_pixels(data: bytes, scale: int) -> np.ndarray | None:
    import cv2

    flag = dict(REDUCED_JPEG_FLAGS).get(scale)
    mode = getattr(cv2, flag) if flag else cv2.IMREAD_COLOR
    return cv2.imdecode(np.frombuffer(data, np.uint8), mode)


def encode_image(img: np.ndarray, side: int = STORE_IMAGE_SIDE) -> bytes:
    """Downscale so the longer side is at most `side` and encode as JPEG (no metadata)."""
    import cv2

    h, w = img.shape[:2]
    scale = side / max(h, w)
    if scale < 1.0:
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))),
                         interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise LabkitError(_("The image could not be saved."), code="bad_image",
                          fix=_("Try again."))
    return buf.tobytes()


def decode_sound(data: bytes) -> np.ndarray:
    from labkit.drivers.wav import WavRefused, read_wav

    try:
        samples = read_wav(data, max_seconds=MAX_SOUND_SECONDS)
    except WavRefused as exc:
        raise LabkitError(_(exc.msgid, **exc.params), code=exc.code,
                          fix=_(exc.fix_msgid, max=int(MAX_SOUND_SECONDS))) from None
    except LabkitError:
        raise
    except Exception:  # scipy raises struct.error etc. on a truncated header
        raise LabkitError(_("The file is not a WAV recording."), code="bad_audio",
                          fix=_("Record or export it again as a PCM WAV file.")) from None
    if samples.size > MAX_SOUND_SECONDS * 16000:
        raise LabkitError(_("The recording is longer than %(n)s seconds.", n=int(MAX_SOUND_SECONDS)),
                          code="bad_audio", fix=_("Cut it into short clips, one word each."))
    if samples.size < 1600:
        raise LabkitError(_("The recording is shorter than a tenth of a second."),
                          code="bad_audio", fix=_("Record a longer clip."))
    return samples


def check_sensor_window(window: Any) -> dict[str, Any]:
    """A sensor sample: {"channels": [...], "values": [[...], ...]} with finite numbers."""
    if not isinstance(window, dict):
        raise LabkitError(_("A sensor sample must be a JSON object."), code="bad_sensor",
                          fix=_("Record it from the bench."))
    channels = window.get("channels")
    values = window.get("values")
    if (not isinstance(channels, list) or not channels
            or not all(isinstance(c, str) for c in channels)):
        raise LabkitError(_("A sensor sample needs a list of channel names."), code="bad_sensor",
                          fix=_("Record it from the bench."))
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        arr = np.zeros((0,))
    if (arr.ndim != 2 or arr.shape[1] != len(channels) or not 2 <= arr.shape[0]
            <= MAX_SENSOR_READINGS or not np.isfinite(arr).all()):
        raise LabkitError(_("A sensor sample needs at least two rows of numbers, one per "
                            "channel."), code="bad_sensor", fix=_("Record it from the bench."))
    return {"channels": list(channels), "values": arr.tolist(),
            "rate": float(window.get("rate", 10.0))}


def encode_payload(kind: str, role: str, payload: Any) -> tuple[bytes, str]:
    """A decoded sample → (file content, extension) as a project keeps it: pictures
    downscaled and re-encoded (no metadata), clips as 16 kHz WAV, sensor windows as JSON.
    A silent clip for a class that is not the background is refused."""
    if kind in IMAGE_KINDS:
        return encode_image(np.asarray(payload)), ".jpg"
    if kind == "sound":
        from labkit.drivers.wav import wav_bytes

        samples = np.asarray(payload, dtype=np.int16).reshape(-1)
        if samples.size < 1600 or samples.size > MAX_SOUND_SECONDS * 16000:
            raise LabkitError(_("A sound sample must last between 0.1 and %(n)s seconds.",
                                n=int(MAX_SOUND_SECONDS)), code="bad_audio",
                              fix=_("Record again."))
        if role != "background":
            from labkit.learn.background import check_not_silent

            check_not_silent(samples)
        return wav_bytes(samples), ".wav"
    return json.dumps(check_sensor_window(payload)).encode("utf-8"), ".json"


# ---------------------------------------------------------------------------------------------
# the project
# ---------------------------------------------------------------------------------------------

def _valid_uuid(value: object) -> str | None:
    """`value` if it is a UUID in canonical form, else None (a repaired manifest keeps its
    project's identity when that part of it is still readable)."""
    try:
        return value if isinstance(value, str) and str(UUID(value)) == value else None
    except ValueError:
        return None


class Project:
    """One teachable project (kind, classes, samples, trained-model info) backed by a folder."""

    def __init__(self, root: Path, *, id: str, name: str, kind: str, created: str,
                 classes: list[ClassInfo], model: dict[str, Any] | None = None,
                 actions: dict[str, Any] | None = None, updated: str | None = None,
                 owner: int | None = None, uuid: str | None = None,
                 sealer: Sealer | None = None) -> None:
        self.root = root
        # <data>/learn/<id>: the data dir, and so its key, is two folders up
        self.sealer = sealer or sealer_for(Path(root).parent.parent)
        self.id = id
        # the project's identity beyond this kit (ids are per kit; see store/identity.py)
        self.uuid = uuid or str(uuid4())
        self.name = name
        self.kind = kind
        self.created = created
        self.updated = updated or created
        self.classes = classes
        self.model = model
        self.actions = actions or {}
        self.owner = owner      # the student id it belongs to (None: the teacher's)
        self.lock = threading.RLock()

    # ---- manifest -----------------------------------------------------------------------
    @property
    def manifest_path(self) -> Path:
        return self.root / "project.json"

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "id": self.id, "uuid": self.uuid, "name": self.name,
                "kind": self.kind, "created": self.created, "updated": self.updated,
                "classes": [c.to_json() for c in self.classes], "model": self.model,
                "actions": self.actions, "owner": self.owner}

    def save(self) -> None:
        with self.lock:
            self.updated = _now()
            write_json(self.sealer, self.manifest_path, self.to_json())

    @classmethod
    def load(cls, root: Path, sealer: Sealer | None = None) -> "Project":
        sealer = sealer or sealer_for(Path(root).parent.parent)
        path = root / "project.json"
        try:
            raw = sealer.read(path)
        except FileNotFoundError:
            raise corrupt(root, "project.json is missing") from None
        except SealBroken:
            raise corrupt(root, "project.json does not open with this kit's key") from None
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise corrupt(root, f"project.json is not valid JSON: {exc}") from None
        project = cls._from_json(root, data, sealer)
        if "uuid" not in data:  # written before projects had one: give it one, once
            with project.lock:
                write_json(sealer, project.manifest_path, project.to_json())
        return project

    @classmethod
    def _from_json(cls, root: Path, data: Any, sealer: Sealer | None = None) -> "Project":
        import jsonschema

        try:
            jsoncheck.validate(data, MANIFEST_SCHEMA)
        except jsonschema.ValidationError as exc:
            where = "/".join(str(p) for p in exc.absolute_path) or "top"
            raise corrupt(root, f"project.json has a bad entry at {where}") from None
        classes = []
        for c in data["classes"]:
            samples = [Sample(s["id"], s["file"], s["created"], s.get("source", "camera"),
                              s.get("take", ""))
                       for s in c["samples"]]
            classes.append(ClassInfo(c["id"], c["name"], samples, c.get("role", "")))
        if data["id"] != root.name:
            raise corrupt(root, "project.json belongs to another folder")
        return cls(root, id=data["id"], name=data["name"], kind=data["kind"],
                   created=data["created"], updated=data.get("updated"), classes=classes,
                   model=data.get("model"), actions=data.get("actions") or {},
                   owner=_owner(data.get("owner")), uuid=data.get("uuid"), sealer=sealer)

    # ---- classes ------------------------------------------------------------------------
    def class_dir(self, class_id: str) -> Path:
        return self.root / "classes" / class_id

    def get_class(self, class_id: str) -> ClassInfo:
        for c in self.classes:
            if c.id == class_id:
                return c
        raise LabkitError(_("There is no such class in this project."), code="not_found",
                          fix=_("Reload the page."))

    def add_class(self, name: str) -> ClassInfo:
        with self.lock:
            name = clean_name(name)
            if len(self.classes) >= MAX_CLASSES:
                raise LabkitError(_("At most %(n)s classes are allowed.", n=MAX_CLASSES),
                                  code="too_many_classes", fix=_("Remove a class."))
            check_class_names([c.name for c in self.classes] + [name], allow_fewer=True)
            info = ClassInfo(new_id("c"), name)
            write_json(self.sealer, self.class_dir(info.id) / "class.json", info.meta())
            self.classes.append(info)
            self._model_outdated()
            self.save()
            return info

    def add_background_class(self) -> ClassInfo:
        """A sound project's background class (named in the kit's language); one only."""
        from labkit.learn.background import ROLE, background_class

        with self.lock:
            existing = background_class(self)
            if existing is not None:
                return existing
            if len(self.classes) >= MAX_CLASSES:
                raise LabkitError(_("At most %(n)s classes are allowed.", n=MAX_CLASSES),
                                  code="too_many_classes",
                                  fix=_("Remove a class: a sound project also needs its "
                                        "background class."))
            name = str(BACKGROUND_NAME)
            taken = {name_key(c.name) for c in self.classes}
            while name_key(name) in taken:
                name = f"{name}_"
            info = ClassInfo(new_id("c"), name, role=ROLE)
            write_json(self.sealer, self.class_dir(info.id) / "class.json", info.meta())
            self.classes.append(info)
            self._model_outdated()
            self.save()
            return info

    def rename_class(self, class_id: str, name: str) -> ClassInfo:
        with self.lock:
            info = self.get_class(class_id)
            name = clean_name(name)
            check_class_names([name if c.id == class_id else c.name for c in self.classes],
                              allow_fewer=True)
            info.name = name
            write_json(self.sealer, self.class_dir(info.id) / "class.json", info.meta())
            self._model_outdated()
            self.save()
            return info

    def remove_class(self, class_id: str) -> None:
        """Remove a class and its samples for good (a child's pictures must not linger)."""
        with self.lock:
            info = self.get_class(class_id)
            if info.role == "background":
                raise LabkitError(
                    _("The background class cannot be removed: without it the model "
                      "answers a word when nobody speaks."), code="background_class",
                    fix=_("Delete single samples instead, or record the room again."))
            src = self.class_dir(info.id)
            if src.exists():
                _remove_tree(src)
            self.classes.remove(info)
            self.actions.pop(info.id, None)
            self._model_outdated()
            self.save()

    def _model_outdated(self) -> None:
        if self.model:
            self.model["outdated"] = True

    # ---- samples ------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {c.name: len(c.samples) for c in self.classes}

    @property
    def total(self) -> int:
        return sum(len(c.samples) for c in self.classes)

    def _check_room(self, info: ClassInfo) -> None:
        if len(info.samples) >= MAX_PER_CLASS:
            raise LabkitError(
                _("The class %(name)s already has %(n)s samples, the most one class can keep.",
                  name=info.name, n=MAX_PER_CLASS),
                code="too_many_samples",
                fix=_("Delete some samples first; 20–100 per class is plenty."))
        if self.total >= MAX_TOTAL:
            raise LabkitError(
                _("The project already has %(n)s samples, the most one project can keep.",
                  n=MAX_TOTAL),
                code="too_many_samples", fix=_("Delete some samples first."))

    def encode_sample(self, class_id: str, payload: Any) -> tuple[bytes, str]:
        """A decoded payload → (file content, extension) as `add_sample` keeps it."""
        return encode_payload(self.kind, self.get_class(class_id).role, payload)

    def add_sample(self, class_id: str, payload: Any, *, source: str = "camera",
                   take: str = "", encoded: tuple[bytes, str] | None = None) -> Sample:
        """Store one sample: a BGR image (image/hand/pose), int16 audio (sound) or a sensor
        window dict (sensor). Raw uploads go through `add_upload`. `take` names one hold of
        the record button (see `Sample.take`). `encoded`: what `encode_sample` made of the
        payload already (an import checks every sample before it keeps any)."""
        take = check_take(take)
        with self.lock:
            info = self.get_class(class_id)
            self._check_room(info)
            if encoded is not None:
                data, ext = encoded
                if ext not in (".jpg", ".wav", ".json"):
                    raise ValueError(ext)
            else:
                data, ext = self.encode_sample(class_id, payload)
            sample = Sample(new_id("s"), "", _now(), source, take)
            sample.file = sample.id + ext
            path = self.sealer.write(self.class_dir(info.id) / sample.file, data)
            info.samples.append(sample)
            was_outdated = self.model.get("outdated") if self.model else None
            self._model_outdated()
            try:
                self.save()
            except BaseException:
                # the manifest could not be written (a full disk): forget the sample whole
                info.samples.remove(sample)
                path.unlink(missing_ok=True)
                if self.model:
                    self.model["outdated"] = was_outdated
                raise
            return sample

    def add_upload(self, class_id: str, data: bytes, filename: str = "",
                   check: Any = None) -> Sample:
        """An uploaded file: decoded and checked first, so nothing broken is ever kept.
        `check(payload)`, if given, may refuse the decoded sample (raising LabkitError)."""
        if self.kind in IMAGE_KINDS:
            image = decode_image(data)
            if check is not None:
                check(image)
            return self.add_sample(class_id, image, source="upload")
        if self.kind == "sound":
            return self.add_sample(class_id, decode_sound(data), source="upload")
        try:
            window = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise LabkitError(_("The file is not a sensor recording (JSON)."), code="bad_sensor",
                              fix=_("Record it from the bench.")) from None
        return self.add_sample(class_id, window, source="upload")

    def find_sample(self, sample_id: str) -> tuple[ClassInfo, Sample]:
        for c in self.classes:
            for s in c.samples:
                if s.id == sample_id:
                    return c, s
        raise LabkitError(_("There is no such sample."), code="not_found",
                          fix=_("Reload the page."))

    def sample_path(self, sample_id: str) -> Path:
        info, sample = self.find_sample(sample_id)
        return self.class_dir(info.id) / sample.file

    def delete_sample(self, sample_id: str) -> None:
        with self.lock:
            info, sample = self.find_sample(sample_id)
            (self.class_dir(info.id) / sample.file).unlink(missing_ok=True)
            info.samples.remove(sample)
            self._model_outdated()
            self.save()

    def sample_bytes(self, info: ClassInfo, sample: Sample) -> bytes:
        """A saved sample's file content as it was encoded (JPEG, WAV or JSON): what
        `read_sample` decodes and what an export carries. The one place samples are read."""
        path = self.class_dir(info.id) / sample.file
        try:
            return self.sealer.read(path)
        except OSError:
            raise LabkitError(_("A saved sample is missing: %(file)s.", file=sample.file),
                              code="missing_sample",
                              fix=_("Delete it and record it again.")) from None
        except SealBroken:
            raise LabkitError(_("A saved sample is damaged: %(file)s.", file=sample.file),
                              code="bad_sample", fix=_("Delete it and record it again.")) from None

    def read_sample(self, info: ClassInfo, sample: Sample) -> Any:
        """The decoded payload of a saved sample (raises LabkitError if the file is broken)."""
        data = self.sample_bytes(info, sample)
        if self.kind in IMAGE_KINDS:
            return decode_image(data)
        if self.kind == "sound":
            return decode_sound(data)
        try:
            return check_sensor_window(json.loads(data.decode("utf-8")))
        except (UnicodeDecodeError, ValueError):
            raise LabkitError(_("A saved sample is damaged: %(file)s.", file=sample.file),
                              code="bad_sensor", fix=_("Delete it and record it again.")) from None

    def iter_samples(self) -> Iterator[tuple[ClassInfo, Sample]]:
        for c in self.classes:
            for s in c.samples:
                yield c, s

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "kind": self.kind, "created": self.created,
                "updated": self.updated,
                "classes": [{"id": c.id, "name": c.name, "count": len(c.samples),
                             "samples": [s.id for s in c.samples], "role": c.role}
                            for c in self.classes],
                "total": self.total, "model": self.model, "actions": self.actions,
                "owner": self.owner,
                "limits": {"per_class": MAX_PER_CLASS, "total": MAX_TOTAL,
                           "classes": MAX_CLASSES}}


MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "id", "name", "kind", "created", "classes"],
    "properties": {
        "format": {"const": FORMAT},
        "id": {"type": "string", "pattern": "^p[0-9a-z]+$"},
        "uuid": {"type": "string",
                 "pattern": "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 80},
        "kind": {"enum": list(KINDS)},
        "created": {"type": "string"},
        "classes": {"type": "array", "maxItems": MAX_CLASSES, "items": {
            "type": "object", "required": ["id", "name", "samples"],
            "properties": {
                "id": {"type": "string", "pattern": "^c[0-9a-z]+$"},
                "name": {"type": "string", "minLength": 1},
                "role": {"enum": ["background"]},
                "samples": {"type": "array", "maxItems": MAX_PER_CLASS, "items": {
                    "type": "object", "required": ["id", "file", "created"],
                    "properties": {
                        "id": {"type": "string", "pattern": "^s[0-9a-z]+$"},
                        "file": {"type": "string", "pattern": r"^s[0-9a-z]+\.(jpg|wav|json)$"},
                        "take": {"type": "string", "pattern": TAKE_PATTERN},
                    }}},
            }}},
        "model": {"type": ["object", "null"]},
        "actions": {"type": ["object", "null"]},
    },
}


def _remove_tree(folder: Path) -> None:
    """Rename `folder` to a hidden sibling in one step, then delete it.

    A kill between the two leaves only a `.deleting-*` folder, which the start-up tidy
    (labkit/datadir.py) removes, never a half project.
    """
    aside = folder.with_name(f".deleting-{folder.name}-{secrets.token_hex(4)}")
    folder.rename(aside)
    shutil.rmtree(aside)


class ProjectStore:
    """All teachable projects under `<data>/learn`, each loaded once and shared (thread-safe)."""

    def __init__(self, data_dir: Path, sealer: Sealer | None = None) -> None:
        self.root = Path(data_dir) / "learn"
        self.sealer = sealer or sealer_for(data_dir)
        self._projects: dict[str, Project] = {}
        self._lock = threading.RLock()

    def _dir(self, project_id: str) -> Path:
        if not _valid_id(project_id, "p"):
            raise LabkitError(_("There is no such project."), code="not_found",
                              fix=_("Pick a project from the list."))
        return self.root / project_id

    def create(self, name: str, kind: str, class_names: list[str], *,
               owner: int | None = None, roles: list[str] | None = None) -> Project:
        """A new project. A sound project gets its background class after `class_names`,
        unless `roles` (one per name: "" or "background") says which classes are what —
        as for a project coming back from an export."""
        name = clean_name(name, what="project")
        if kind not in KINDS:
            raise LabkitError(_("Unknown kind of project: %(kind)s.", kind=repr(kind)),
                              code="bad_kind",
                              fix=_("Choose image, hand, pose, sound or sensor."))
        if roles is None:
            roles = [""] * len(class_names)
            if kind == "sound":
                # the background class is one of the project's classes: one word is enough
                class_names = list(class_names) + [str(BACKGROUND_NAME)]
                roles.append("background")
        if (len(roles) != len(class_names) or any(r not in ("", "background") for r in roles)
                or roles.count("background") > (1 if kind == "sound" else 0)):
            raise LabkitError(_("The classes' roles do not fit a %(kind)s project.",
                                kind=kind), code="bad_input",
                              fix=_("Export the project again on the other kit."))
        names = check_class_names(class_names)
        with self._lock:
            pid = new_id("p")
            root = self.root / pid
            project = Project(root, id=pid, name=name, kind=kind, created=_now(), classes=[],
                              owner=owner, sealer=self.sealer)
            for cname, role in zip(names, roles, strict=True):
                info = ClassInfo(new_id("c"), cname, role=role)
                write_json(self.sealer, project.class_dir(info.id) / "class.json", info.meta())
                project.classes.append(info)
            if kind == "sound":
                # a class named after a kit command word drives its device from the start
                from labkit.audio_ai.vocabulary import learn_defaults

                project.actions = learn_defaults({c.id: c.name for c in project.classes})
            project.save()
            self._projects[pid] = project
            return project

    def get(self, project_id: str) -> Project:
        root = self._dir(project_id)
        with self._lock:
            if project_id in self._projects:
                return self._projects[project_id]
            if not root.is_dir():
                raise LabkitError(_("There is no such project."), code="not_found",
                                  fix=_("Pick a project from the list."))
            project = Project.load(root, self.sealer)
            self._projects[project_id] = project
            return project

    def list(self) -> list[dict[str, Any]]:
        """Summaries of every project; a damaged one is listed with its error, not hidden."""
        out = []
        if not self.root.is_dir():
            return out
        for root in sorted(self.root.iterdir()):
            if not root.is_dir() or not _valid_id(root.name, "p"):
                continue
            try:
                project = self.get(root.name)
            except LabkitError as exc:
                out.append({"id": root.name, "error": exc.message, "fix": exc.fix,
                            "code": exc.code})
                continue
            s = project.summary()
            out.append({"id": s["id"], "name": s["name"], "kind": s["kind"],
                        "total": s["total"], "updated": s["updated"],
                        "trained": bool(project.model), "owner": project.owner})
        return out

    def delete(self, project_id: str) -> None:
        """Remove a project, its samples and its model for good.

        The folder is first renamed aside in one step (so a half-finished delete never leaves
        a half project that still lists), then removed.
        """
        root = self._dir(project_id)
        with self._lock:
            self._projects.pop(project_id, None)
            if root.is_dir():
                _remove_tree(root)

    def _manifests(self) -> Iterator[tuple[str, Any]]:
        """(project id, its project.json) for every project folder on disk whose manifest
        reads, damaged projects included; the others are skipped."""
        if not self.root.is_dir():
            return
        for root in sorted(self.root.iterdir()):
            if not root.is_dir() or not _valid_id(root.name, "p"):
                continue
            try:
                yield root.name, read_json(self.sealer, root / "project.json")
            except (OSError, UnicodeDecodeError, ValueError):
                continue

    def owned_by(self, student_id: int) -> list[str]:
        """Ids of every project on disk whose owner is `student_id` (damaged ones included)."""
        return [pid for pid, data in self._manifests()
                if isinstance(data, dict) and _owner(data.get("owner")) == student_id]

    def expired_before(self, cutoff: float) -> list[str]:
        """Ids of projects created before `cutoff` (Unix time): the retention pass's list."""
        from datetime import datetime

        found = []
        for pid, data in self._manifests():
            try:
                created = datetime.strptime(str(data.get("created")), "%Y-%m-%dT%H:%M:%S%z")
            except (ValueError, AttributeError):
                continue
            if created.timestamp() < cutoff:
                found.append(pid)
        return found

    def delete_owned_by(self, student_id: int) -> int:
        """Remove every project of a student; how many were removed."""
        ids = self.owned_by(student_id)
        for project_id in ids:
            self.delete(project_id)
        return len(ids)

    def repair(self, project_id: str) -> Project:
        """Rebuild a damaged manifest from the class folders; the old file is kept aside."""
        root = self._dir(project_id)
        if not root.is_dir():
            raise LabkitError(_("There is no such project."), code="not_found",
                              fix=_("Pick a project from the list."))
        with self._lock:
            old = root / "project.json"
            old_data: dict[str, Any] = {}
            if old.exists():
                try:
                    loaded = read_json(self.sealer, old)
                    old_data = loaded if isinstance(loaded, dict) else {}
                except (UnicodeDecodeError, ValueError):
                    old_data = {}
                shutil.copy2(old, root / f"project.json.damaged-{int(time.time())}")
            kind = old_data.get("kind") if old_data.get("kind") in KINDS else None
            classes: list[ClassInfo] = []
            seen: set[str] = set()
            for cdir in sorted((root / "classes").glob("c*")):
                if not cdir.is_dir() or not _valid_id(cdir.name, "c"):
                    continue
                role = ""
                try:
                    meta = read_json(self.sealer, cdir / "class.json")
                    cname = clean_name(meta["name"])
                    role = "background" if meta.get("role") == "background" else ""
                except (OSError, ValueError, KeyError, TypeError, AttributeError, LabkitError):
                    cname = cdir.name
                while name_key(cname) in seen:
                    cname = f"{cname} ({len(seen)})"
                seen.add(name_key(cname))
                samples = []
                for f in sorted(cdir.iterdir()):
                    if f.suffix in (".jpg", ".wav", ".json") and _valid_id(f.stem, "s"):
                        samples.append(Sample(f.stem, f.name, _now(), "repaired"))
                        if kind is None:
                            kind = {".jpg": "image", ".wav": "sound", ".json": "sensor"}[f.suffix]
                classes.append(ClassInfo(cdir.name, cname, samples[:MAX_PER_CLASS], role))
            name = old_data.get("name") if isinstance(old_data.get("name"), str) else ""
            try:
                name = clean_name(name, what="project")
            except LabkitError:
                name = str(_("Repaired project"))
            project = Project(root, id=project_id, name=name, kind=kind or "image",
                              created=_now(), classes=classes[:MAX_CLASSES],
                              owner=_owner(old_data.get("owner")),
                              uuid=_valid_uuid(old_data.get("uuid")), sealer=self.sealer)
            project.save()
            self._projects[project_id] = project
            return project


# What of a project is sealed at rest: manifests, samples, cached features, the model.
SEALED_PATTERNS = ("project.json", "classes/c*/class.json", "classes/c*/s*.jpg",
                   "classes/c*/s*.wav", "classes/c*/s*.json", "features/*/*.npy",
                   "model/*.onnx", "model/*.tflite", "model/card.json", "model/labels.json")


def sealed_files(project_root: Path) -> Iterator[Path]:
    """The files of one project folder that are kept sealed."""
    for pattern in SEALED_PATTERNS:
        yield from sorted(Path(project_root).glob(pattern))


def seal_clear_files(store: ProjectStore) -> int:
    """Seal every clear sample, feature row and model an older kit left (run on start).

    Each file is re-written atomically (old clear file or new sealed one after a power cut;
    reading accepts both), so running it again after a cut simply finishes the job.
    """
    done = 0
    if not store.root.is_dir():
        return done
    for root in sorted(store.root.iterdir()):
        if root.is_dir() and not root.is_symlink() and _valid_id(root.name, "p"):
            done += store.sealer.seal_all(sealed_files(root))
    return done
