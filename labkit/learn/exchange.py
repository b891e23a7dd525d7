"""Moving a whole project to another kit: one zip named after it, and back again.

    <name>.labkit-model.zip
        README.md          what is inside and how to use the model in Python on a kit
        project.json       name, kind, classes (and which is the background), takes, actions
        model.onnx, labels.json, card.json [, model_int8.onnx]    the trained model, if any
        samples/<n>/<file> the samples of class n — only if the student chose to include them

Export only packs what is already there: the trained ONNX graph and its card, and the samples
as they were encoded (`Project.sample_bytes`), so it takes as long as writing the zip — no
embedding, no quantisation. A passphrase wraps that zip whole: scrypt (n=2¹⁵, r=8) turns the
passphrase into a 256-bit key for AES-GCM (`cryptography`), and the outer zip holds
`envelope.json` (the scrypt salt and parameters, also authenticated), `export.enc` and the
README, so a reader still learns what the file is without the passphrase.

Import checks everything before anything is written: the archive through the strict reader
(labkit.packs.archive), the manifest's schema, every sample decoded, the model through the same
vetting as a model-only export (labkit.learn.model.validate_export). Then the project is made,
owned by the importing student, its samples added through the dataset's own write path; if a
write fails midway the half-made project is removed.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any, Callable

from labkit import jsoncheck
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _
from labkit.learn.dataset import (IMAGE_KINDS, KINDS, MAX_PER_CLASS, MAX_TOTAL, Project,
                                  ProjectStore, TAKE_PATTERN, check_sensor_window, decode_image,
                                  decode_sound, encode_payload)
from labkit.learn.model import (CARD_FILE, INT8_FILE, LABELS_FILE, MODEL_FILE, _validate_members,
                                install_model, model_dir, read_card, read_graph)
from labkit.packs.archive import ArchiveLimits, ArchiveRefused, StrictArchive

SUFFIX = ".labkit-model.zip"
PROJECT_FILE = "project.json"
README_FILE = "README.md"
SAMPLES_DIR = "samples"
ENVELOPE_FILE = "envelope.json"
ENCRYPTED_FILE = "export.enc"
PROJECT_FORMAT = "labkit-project-export/1"
ENVELOPE_FORMAT = "labkit-encrypted-export/1"
MAX_IMPORT_BYTES = 150 * 1024 * 1024
MAX_SAMPLE_BYTES = 8 * 1024 * 1024
MIN_PASSPHRASE = 8
MAX_PASSPHRASE = 200
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1
MODEL_MEMBERS = (MODEL_FILE, INT8_FILE, LABELS_FILE, CARD_FILE)

Progress = Callable[[str, float], None]


def export_filename(name: str) -> str:
    """`<project name>.labkit-model.zip`, safe on every file system: letters of any script
    (Chinese kept), digits, `-` and `_`; everything else becomes `_`."""
    safe = re.sub(r"[^\w\-]+", "_", name, flags=re.UNICODE).strip("._")[:60]
    return (safe or "model") + SUFFIX


def usage_snippet(kind: str, filename: str) -> str:
    """Python a student runs on the kit to use the exported model (code, not prose)."""
    head = ("from labkit.learn import ExportedModel\n"
            f"model = ExportedModel({filename!r})  # passphrase=\"...\"\n")
    if kind in IMAGE_KINDS:
        return (head + "from labkit.drivers import Camera\n"
                "camera = Camera().start()\n"
                "print(model.predict(camera.wait_for_frame().image))\n")
    if kind == "sound":
        return (head + "import time\n"
                "from labkit.drivers import Microphone\n"
                "mic = Microphone().start()\n"
                "time.sleep(1.5)\n"
                "print(model.predict(mic.recent(1.0)))\n")
    return (head + 'window = {"channels": ["distance", "light"], '
            '"values": [[0.3, 0.5], [0.3, 0.5], [0.2, 0.5]], "rate": 10}\n'
            "print(model.predict(window))\n")


def _readme(project_name: str, kind: str, filename: str, has_model: bool,
            samples: bool, encrypted: bool) -> str:
    lines = [f"# {project_name}", "",
             str(_("Exported from a labkit kit on %(date)s.", date=time.strftime("%Y-%m-%d"))),
             ""]
    if encrypted:
        lines += [str(_("This file is protected with a passphrase: import it on a kit's "
                        "Teach the kit page and type the passphrase.")), ""]
    if samples:
        lines += [str(_("It contains the project's samples. They may show or sound like a "
                        "child: keep the file among the class, and delete it when it is no "
                        "longer needed.")), ""]
    if has_model:
        lines += [str(_("Use the model in Python on a kit:")), "", "```python",
                  usage_snippet(kind, filename).rstrip("\n"), "```", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# passphrase protection
# ---------------------------------------------------------------------------------------------

def check_passphrase(passphrase: Any) -> str | None:
    """None for no protection, else the passphrase (a clear error if it is too short)."""
    if passphrase in (None, ""):
        return None
    if (not isinstance(passphrase, str) or not MIN_PASSPHRASE <= len(passphrase)
            <= MAX_PASSPHRASE):
        raise LabkitError(_("The passphrase must be %(min)s to %(max)s characters long.",
                            min=MIN_PASSPHRASE, max=MAX_PASSPHRASE),
                          code="bad_passphrase", fix=_("Choose a longer passphrase, such as "
                                                       "a short sentence."))
    return passphrase


def _key(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def encrypt(plain: bytes, passphrase: str, readme: str) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    salt, nonce = os.urandom(16), os.urandom(12)
    envelope = {"format": ENVELOPE_FORMAT, "kdf": "scrypt", "n": SCRYPT_N, "r": SCRYPT_R,
                "p": SCRYPT_P, "salt": salt.hex(), "cipher": "AES-256-GCM",
                "nonce": nonce.hex()}
    header = json.dumps(envelope, sort_keys=True).encode("utf-8")
    sealed = AESGCM(_key(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).encrypt(
        nonce, plain, header)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(ENVELOPE_FILE, header)
        zf.writestr(ENCRYPTED_FILE, sealed)
        zf.writestr(README_FILE, readme)
    return buf.getvalue()


def _decrypt(zf: StrictArchive, passphrase: str | None) -> bytes:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not passphrase:
        raise LabkitError(_("This export is protected with a passphrase."),
                          code="passphrase_needed",
                          fix=_("Type the passphrase that was chosen when it was exported."))
    header = zf.read(ENVELOPE_FILE, max_bytes=4096)
    try:
        env = json.loads(header.decode("utf-8"))
        n, r, p = int(env["n"]), int(env["r"]), int(env["p"])
        salt, nonce = bytes.fromhex(env["salt"]), bytes.fromhex(env["nonce"])
        ok = (env["format"] == ENVELOPE_FORMAT and env.get("kdf") == "scrypt"
              and 2 ** 14 <= n <= 2 ** 17 and n & (n - 1) == 0 and 1 <= r <= 16 and p == 1
              and len(salt) >= 16 and len(nonce) == 12)
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise _bad(_("its encryption header is not valid"))
    try:
        return AESGCM(_key(passphrase, salt, n, r, p)).decrypt(
            nonce, zf.read(ENCRYPTED_FILE, max_bytes=MAX_IMPORT_BYTES), header)
    except InvalidTag:
        raise LabkitError(_("The passphrase is wrong, or the file was changed."),
                          code="wrong_passphrase",
                          fix=_("Type the passphrase again; it is case-sensitive.")) from None


# ---------------------------------------------------------------------------------------------
# export
# ---------------------------------------------------------------------------------------------

def check_exportable(project: Project, *, samples: bool) -> bool:
    """Whether the export will carry a model; a clear error if it would carry nothing."""
    with project.lock:
        model = dict(project.model) if project.model else None
    has_model = (bool(model) and not model.get("outdated")
                 and (model_dir(project) / MODEL_FILE).exists())
    if not has_model and not samples:
        if model:
            raise LabkitError(_("Train the model again before exporting: the samples "
                                "changed."), code="not_trained",
                              fix=_("Press Train first, or include the samples."))
        raise LabkitError(_("This project has no trained model yet."), code="not_trained",
                          fix=_("Press Train first, or include the samples."))
    return has_model


def build_export(project: Project, *, samples: bool = False, passphrase: str | None = None,
                 progress: Progress | None = None) -> tuple[str, bytes]:
    """(file name, zip bytes) of the project: its trained model and card, and its samples if
    `samples` (the student's choice). Nothing is recomputed."""
    report = progress or (lambda stage, fraction: None)
    passphrase = check_passphrase(passphrase)
    with project.lock:
        classes = [(c, list(c.samples)) for c in project.classes]
        actions = dict(project.actions)
        name, kind = project.name, project.kind
    folder = model_dir(project)
    has_model = check_exportable(project, samples=samples)
    filename = export_filename(name)
    report("model", 0.05)
    buf = io.BytesIO()
    manifest: dict[str, Any] = {
        "format": PROJECT_FORMAT, "name": name, "kind": kind, "samples_included": samples,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "classes": [], "actions": {}}
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        if has_model:
            card = read_card(project)
            card["exported_at"] = manifest["exported_at"]
            for member in (MODEL_FILE, INT8_FILE):
                if (folder / member).exists() and (member == MODEL_FILE or card.get("int8")):
                    # float weights hardly deflate (a few %) and cost seconds to try
                    zf.writestr(member, read_graph(project, int8=member == INT8_FILE),
                                compress_type=zipfile.ZIP_STORED)
            zf.writestr(LABELS_FILE, json.dumps(card["classes"], ensure_ascii=False, indent=1))
            zf.writestr(CARD_FILE, json.dumps(card, ensure_ascii=False, indent=1))
        total = sum(len(s) for _c, s in classes) if samples else 0
        done = 0
        for index, (info, kept) in enumerate(classes):
            entry: dict[str, Any] = {"name": info.name, "role": info.role, "samples": []}
            if info.id in actions:
                manifest["actions"][str(index)] = actions[info.id]
            if samples:
                for sample in kept:
                    member = f"{SAMPLES_DIR}/{index}/{sample.file}"
                    data = project.sample_bytes(info, sample)
                    # JPEG and WAV hardly compress: store them, deflate the rest
                    compress = (zipfile.ZIP_STORED if sample.file.endswith((".jpg", ".wav"))
                                else zipfile.ZIP_DEFLATED)
                    zf.writestr(member, data, compress_type=compress)
                    entry["samples"].append({"file": member, "take": sample.take,
                                             "source": sample.source,
                                             "created": sample.created})
                    done += 1
                    if done % 20 == 0:
                        report("samples", 0.1 + 0.8 * done / max(1, total))
            manifest["classes"].append(entry)
        zf.writestr(PROJECT_FILE, json.dumps(manifest, ensure_ascii=False, indent=1))
        readme = _readme(name, kind, filename, has_model, samples, passphrase is not None)
        zf.writestr(README_FILE, readme)
    data = buf.getvalue()
    if passphrase is not None:
        report("encrypt", 0.92)
        data = encrypt(data, passphrase, _readme(name, kind, filename, has_model, samples,
                                                 True))
    report("done", 1.0)
    return filename, data


# ---------------------------------------------------------------------------------------------
# import
# ---------------------------------------------------------------------------------------------

MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "name", "kind", "classes"],
    "properties": {
        "format": {"const": PROJECT_FORMAT},
        "name": {"type": "string", "minLength": 1, "maxLength": 80},
        "kind": {"enum": list(KINDS)},
        "samples_included": {"type": "boolean"},
        "classes": {"type": "array", "minItems": 1, "maxItems": 6, "items": {
            "type": "object", "required": ["name", "samples"],
            "properties": {
                "name": {"type": "string"},
                "role": {"enum": ["", "background"]},
                "samples": {"type": "array", "maxItems": MAX_PER_CLASS, "items": {
                    "type": "object", "required": ["file"],
                    "properties": {"file": {"type": "string", "maxLength": 200},
                                   "take": {"type": "string",
                                            "pattern": TAKE_PATTERN.replace("{1,", "{0,")},
                                   "source": {"type": "string", "maxLength": 20}}}}}}},
        "actions": {"type": "object"},
    },
}


def _bad(why: Any) -> LabkitError:
    return LabkitError(_("This file is not a project exported by a labkit kit (%(why)s).",
                         why=why),
                       code="bad_model", fix=_("Export the project again on the other kit."))


@dataclass
class Contents:
    """A checked export: the manifest, the model (or None) and each class's samples, encoded
    as this kit keeps them."""

    manifest: dict[str, Any]
    card: dict[str, Any] | None = None
    graph: bytes | None = None
    int8: bytes | None = None
    samples: list[list[tuple[tuple[bytes, str], dict[str, Any]]]] = field(default_factory=list)


def _open(data: bytes) -> StrictArchive:
    if len(data) > MAX_IMPORT_BYTES:
        raise LabkitError(_("The file is too large (at most %(mb)s MB).",
                            mb=MAX_IMPORT_BYTES >> 20), code="too_large",
                          fix=_("Export it again without the samples, or with fewer."))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _bad(_("not a zip file"))
    try:
        return StrictArchive(data, ArchiveLimits(max_members=MAX_TOTAL + 8,
                                                 max_bytes=2 * MAX_IMPORT_BYTES))
    except ArchiveRefused as exc:
        raise _bad(exc.message_text) from None


def read_export(data: bytes, passphrase: str | None = None) -> Contents | None:
    """Check an export completely. None: a model-only export from before projects travelled
    whole (labkit.learn.model.import_zip reads those)."""
    zf = _open(data)
    with zf:
        try:
            if ENVELOPE_FILE in zf.members:
                if set(zf.members) - {ENVELOPE_FILE, ENCRYPTED_FILE, README_FILE}:
                    raise _bad(_("it holds unexpected files"))
                inner = _decrypt(zf, passphrase)
            else:
                inner = None
            if inner is None:
                return _read_plain(zf)
        except ArchiveRefused as exc:
            raise _bad(exc.message_text) from None
    inner_zf = _open(inner)
    with inner_zf:
        if ENVELOPE_FILE in inner_zf.members:
            raise _bad(_("it holds unexpected files"))
        try:
            return _read_plain(inner_zf)
        except ArchiveRefused as exc:
            raise _bad(exc.message_text) from None


def _read_plain(zf: StrictArchive) -> Contents | None:
    import jsonschema

    names = set(zf.members)
    if PROJECT_FILE not in names:
        return None
    try:
        manifest = json.loads(zf.read(PROJECT_FILE, max_bytes=4 * 1024 * 1024).decode("utf-8"))
        jsoncheck.validate(manifest, MANIFEST_SCHEMA)
    except (UnicodeDecodeError, ValueError):
        raise _bad(_("project.json is not JSON")) from None
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "project"
        raise _bad(_("project.json has a bad entry at %(where)s", where=where)) from None
    listed = {s["file"] for c in manifest["classes"] for s in c["samples"]}
    if len(listed) != sum(len(c["samples"]) for c in manifest["classes"]):
        raise _bad(_("a sample is listed twice"))
    if len(listed) > MAX_TOTAL:
        raise _bad(_("it holds more samples than a project may keep"))
    unexpected = names - listed - set(MODEL_MEMBERS) - {PROJECT_FILE, README_FILE}
    if unexpected:
        raise _bad(_("it holds unexpected files"))
    missing = listed - names
    if missing:
        raise _bad(_("a listed sample is missing"))
    contents = Contents(manifest)
    if MODEL_FILE in names:
        contents.card, contents.graph, contents.int8 = _validate_members(zf,
                                                                         others_checked=True)
        model_classes = sorted(contents.card["classes"])
        if model_classes != sorted(c["name"] for c in manifest["classes"]):
            raise _bad(_("the model's classes differ from the project's"))
        if contents.card["kind"] != manifest["kind"]:
            raise _bad(_("the model is for another kind of project"))
    kind = manifest["kind"]
    for c in manifest["classes"]:
        kept = []
        for s in c["samples"]:
            blob = zf.read(s["file"], max_bytes=MAX_SAMPLE_BYTES)
            kept.append((_check_sample(kind, c.get("role", ""), s["file"], blob), s))
        contents.samples.append(kept)
    return contents


def _check_sample(kind: str, role: str, member: str, blob: bytes) -> tuple[bytes, str]:
    """Decode one sample and encode it as the kit keeps it (downscaled, no metadata): a
    broken or hostile file, or a silent word clip, stops the import here."""
    want = ".jpg" if kind in IMAGE_KINDS else ".wav" if kind == "sound" else ".json"
    if not member.endswith(want):
        raise _bad(_("a sample is not of this project's kind"))
    try:
        return encode_payload(kind, role, _decode(kind, blob))
    except LabkitError as exc:
        raise _bad(exc.message) from None


def _decode(kind: str, blob: bytes) -> Any:
    if kind in IMAGE_KINDS:
        return decode_image(blob)
    if kind == "sound":
        return decode_sound(blob)
    try:
        return check_sensor_window(json.loads(blob.decode("utf-8")))
    except (UnicodeDecodeError, ValueError):
        raise LabkitError(_("A saved sample is damaged: %(file)s.", file="json"),
                          code="bad_sensor", fix=_("Record it again.")) from None


def import_project(projects: ProjectStore, data: bytes, *, passphrase: str | None = None,
                   owner: int | None = None, store: Any = None,
                   progress: Progress | None = None) -> Project:
    """The exported project back on this kit: classes, samples and model, owned by `owner`.
    Nothing is kept unless all of it could be checked and written."""
    from labkit.learn.features import extractor_by_name
    from labkit.learn.model import import_zip

    report = progress or (lambda stage, fraction: None)
    contents = read_export(data, passphrase)
    if contents is None:
        project = import_zip(projects, data, store=store)
        if owner is not None:
            with project.lock:
                project.owner = owner
                project.save()
        return project
    m = contents.manifest
    if contents.card is not None and contents.card["input"]["type"] == "features":
        extractor_by_name(contents.card["input"]["name"], store=store,
                          channels=contents.card["input"].get("channels") or
                          ("distance", "light"), tracker=(lambda img: None))
    project = projects.create(m["name"], m["kind"], [c["name"] for c in m["classes"]],
                              owner=owner, roles=[c.get("role", "") for c in m["classes"]])
    try:
        total = sum(len(k) for k in contents.samples)
        done = 0
        for info, kept in zip(project.classes, contents.samples, strict=True):
            for encoded, meta in kept:
                take = meta.get("take", "")
                source = meta.get("source") or "imported"
                project.add_sample(info.id, None, source=source, take=take, encoded=encoded)
                done += 1
                if done % 20 == 0:
                    report("samples", 0.1 + 0.8 * done / max(1, total))
        with project.lock:
            for index, action in (m.get("actions") or {}).items():
                if str(index).isdigit() and int(index) < len(project.classes):
                    from labkit.learn.service import check_action

                    try:
                        project.actions[project.classes[int(index)].id] = check_action(action)
                    except LabkitError:
                        continue
            project.save()
        if contents.card is not None and contents.graph is not None:
            install_model(project, contents.card, contents.graph, contents.int8)
    except BaseException:
        projects.delete(project.id)
        raise
    report("done", 1.0)
    return project


# ---------------------------------------------------------------------------------------------
# using an exported model in a program
# ---------------------------------------------------------------------------------------------

class ExportedModel:
    """An exported model in a student's program on a kit (see `usage_snippet`).

        model = ExportedModel("水果.labkit-model.zip")
        model.predict(camera.wait_for_frame().image)   # {"label", "confidence", ...}

    The file is checked as an import would check it (the graph vetted in a limited child
    process) before it runs here.
    """

    def __init__(self, source: Any, *, passphrase: str | None = None, store: Any = None,
                 tracker: Any = None) -> None:
        from pathlib import Path

        from labkit.learn.features import vision_tracker
        from labkit.learn.model import Predictor, validate_export

        data = bytes(source) if isinstance(source, (bytes, bytearray)) else \
            Path(source).read_bytes()
        contents = read_export(data, passphrase)
        if contents is None:
            card, graph, _int8 = validate_export(data)
        elif contents.card is None or contents.graph is None:
            raise LabkitError(_("This export holds samples but no trained model."),
                              code="not_trained",
                              fix=_("Import it on a kit's Teach the kit page and train it."))
        else:
            card, graph = contents.card, contents.graph
        if store is None and card["input"]["type"] == "features":
            from labkit.config import Settings
            from labkit.models import ModelStore

            store = ModelStore(Settings.from_env())
        if tracker is None and card["kind"] in ("hand", "pose"):
            tracker = vision_tracker(card["kind"], store)
        self.card = card
        self._predictor = Predictor(None, card=card, graph=graph, store=store,
                                    tracker=tracker)
        self.classes: list[str] = list(self._predictor.classes)

    def predict(self, payload: Any) -> dict[str, Any]:
        """One picture / clip / sensor window → {"label", "confidence", "probabilities"}."""
        return self._predictor.predict(payload)

    def predict_proba(self, payloads: Any) -> Any:
        return self._predictor.predict_proba(payloads)
