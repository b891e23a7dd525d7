"""The room of kits on the web: the API other kits call (`/fleet/v1/...`) and the teacher's
room page on the lead kit (`/teacher/room`).

`/fleet/v1/hello` and the two pairing calls are open (a kit must be able to ask to pair); the
code they lead to is shown only on the paired kit itself (`/room/pairing`, kit-local). Every
other `/fleet/v1` call needs the `paired-kit` role: a request signed by a lead this kit paired
with, fresh and never seen before (labkit/fleet/signed.py). These calls carry no cookies, so
they are exempt from CSRF; the teacher's `/teacher/room` calls are not.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from flask import (Blueprint, Response, current_app, g, jsonify, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _

from labkit import __version__
from labkit.errors import LabkitError
from labkit.fleet import models_out, packs_out, pairing, records, signed
from labkit.fleet.client import RoomClient
from labkit.fleet.kitstatus import KitStatus, disk_free_pct
from labkit.fleet.state import RoomState
from labkit.packs import labpack
from labkit.projects.packcli import vet_pack_model
from labkit.store import N_, Problem
from labkit.web.access import ANONYMOUS, KIT_LOCAL, PAIRED_KIT, TEACHER, allow
from labkit.web.common import json_body, kit_runtime
from labkit.web.exports import deliver
from labkit.web.packs import DEFAULT_SEARCH, usb_pack

log = logging.getLogger(__name__)

bp = Blueprint("fleet", __name__)
# the calls other kits make: signed or pairing, never cookies, so no CSRF token (create_app)
api = Blueprint("fleet_api", __name__, url_prefix="/fleet/v1")
PACK_MAX_BYTES = 2 * 1024 ** 3
STREAMED = "labkit_streamed_body"


class Fleet:
    """The room parts of one app: its files, its nonce memory, what zeroconf heard."""

    def __init__(self, data_dir: Path) -> None:
        self.state = RoomState(data_dir)
        self.state.seal_collected()       # records an older kit collected in clear
        self.nonces = signed.NonceMemory()
        self.browser: Any = None          # labkit.fleet.discovery.Browser, set by `serve`


def fleet() -> Fleet:
    ext = current_app.extensions
    if "labkit_fleet" not in ext:
        ext["labkit_fleet"] = Fleet(current_app.config["LABKIT_SETTINGS"].data_dir)
    return ext["labkit_fleet"]


def _store() -> Any:
    from labkit.web.labs import store
    return store()


def kit_id() -> str:
    return str(_store().kit_id)


def client() -> RoomClient:
    return RoomClient(fleet().state, kit_id=kit_id(), name=fleet().state.name())


# ---- the paired-kit role ---------------------------------------------------------------------
def is_paired_kit() -> bool:
    """Is this request signed by a lead kit this kit paired with (fresh, not replayed)?"""
    if "fleet_verdict" not in g:
        view = current_app.view_functions.get(request.endpoint or "")
        streamed = bool(getattr(view, STREAMED, False))
        query = request.query_string.decode("latin-1")
        path = request.path + ("?" + query if query else "")
        state = fleet().state
        g.fleet_verdict = signed.verify_request(
            request.headers, request.method, path,
            None if streamed else request.get_data(cache=True),
            kit_id=kit_id(), key_for=state.lead_key, nonces=fleet().nonces)
        if not g.fleet_verdict.ok:
            log.warning("fleet request refused: %s (key %s)", g.fleet_verdict.reason,
                        g.fleet_verdict.key_id or "-")
    return bool(g.fleet_verdict.ok)


REFUSALS = {
    "unsigned": N_("The request is not signed by a kit."),
    "unknown_key": N_("The request comes from a kit this kit is not paired with (another "
                      "room?)."),
    "bad_signature": N_("The request's signature does not match (altered on the way?)."),
    "stale": N_("The request is too old or its clock is wrong."),
    "replayed": N_("The request was already received once (replayed)."),
}


def paired_refusal() -> Problem:
    verdict = g.get("fleet_verdict")
    reason = verdict.reason if verdict is not None else "unsigned"
    return Problem(REFUSALS.get(reason, REFUSALS["unsigned"]),
                   fix=N_("Pair the kits again from the lead kit's room page."),
                   code="forbidden")


def streamed(view: Any) -> Any:
    setattr(view, STREAMED, True)
    return view


# ---- what a kit says about itself ------------------------------------------------------------
def _packs() -> dict[str, str]:
    store = labpack.PackStore(current_app.config["LABKIT_SETTINGS"].data_dir)
    return {row["id"]: str(row.get("current", "")) for row in store.list()
            if not row.get("retired")}


def _labs() -> list[str]:
    from labkit.web.labs import curriculum
    return sorted(curriculum().lessons)


def _models_ok(runtime: Any) -> bool | None:
    """Do every model's files match their recorded hashes? (each file is hashed once per
    process and again only when its size or time changes, so asking often costs a stat)."""
    from labkit.models.registry import entry_problems

    store = runtime.model_store
    if store is None:
        return False
    try:
        return not any(entry_problems(store.models_dir, store.info(name), use_cache=True)
                       for name in store.names())
    except (LabkitError, OSError):
        return False


def kit_status() -> KitStatus:
    """This kit's live status, as announced in its TXT record and its signed status."""
    runtime = kit_runtime()
    from labkit.web.labs import runner

    active = runner().active
    try:
        disk = shutil.disk_usage(runtime.settings.data_dir)
        pct = disk_free_pct(disk.total, disk.free)
    except OSError:
        pct = None
    return KitStatus(lab=active.lesson_id if active is not None else None,
                     camera_ok=bool(getattr(runtime.camera, "connected", True)),
                     models_ok=_models_ok(runtime), disk_free_pct=pct)


def facts() -> dict[str, Any]:
    """The battery of facts a lead kit shows for each kit of its room (`status` is the same
    compact status the kit announces with zeroconf)."""
    runtime = kit_runtime()
    settings = runtime.settings
    from labkit.web.labs import runner

    active = runner().active
    try:
        disk = shutil.disk_usage(settings.data_dir)
        disk_free_mb = disk.free // (1024 * 1024)
    except OSError:
        disk_free_mb = None
    camera = runtime.camera
    return {"status": kit_status().as_dict(),
            "kit_id": kit_id(), "name": fleet().state.name(), "version": __version__,
            "hardware": runtime.hardware, "packs": _packs(), "labs": _labs(),
            "lab_running": active.lesson_id if active is not None else None,
            "room_lab": fleet().state.room_lab(),
            "camera": {"name": camera.name, "ok": bool(getattr(camera, "connected", True))},
            "disk_free_mb": disk_free_mb, "time": time.time()}


# ---- the API other kits call -----------------------------------------------------------------
@api.get("/hello")
@allow(ANONYMOUS)
def hello() -> Response:
    return jsonify({"kit_id": kit_id(), "name": fleet().state.name(), "version": __version__,
                    "time": time.time()})


@api.post("/pair/start")
@allow(ANONYMOUS)
def pair_start() -> Response:
    return jsonify(pairing.start(fleet().state, request.get_json(silent=True)))


@api.post("/pair/confirm")
@allow(ANONYMOUS)
def pair_confirm() -> Response:
    return jsonify(pairing.confirm(fleet().state, request.get_json(silent=True),
                                   kit_id=kit_id()))


@api.post("/unpair")
@allow(PAIRED_KIT)
def unpair() -> Response:
    return jsonify({"unpaired": fleet().state.remove_lead(g.fleet_verdict.key_id)})


@api.get("/status")
@allow(PAIRED_KIT)
def status() -> Response:
    return jsonify(facts())


@api.post("/packs")
@allow(PAIRED_KIT)
@streamed
def receive_pack() -> Response:
    """A pack pushed by the lead: streamed to a temp file, checked against the signed body
    hash, then verified and installed exactly as from a USB drive (this kit's own trusted
    keys decide)."""
    request.max_content_length = PACK_MAX_BYTES
    settings = current_app.config["LABKIT_SETTINGS"]
    folder = settings.data_dir / "packs"
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".push-", suffix=labpack.SUFFIX, dir=folder)
    digest = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := request.stream.read(1 << 20):
                digest.update(chunk)
                out.write(chunk)
        if not signed.body_matches(request.headers, digest.hexdigest()):
            raise Problem(REFUSALS["bad_signature"], code="forbidden")
        info = labpack.PackStore(settings.data_dir).install(Path(tmp), vet=vet_pack_model)
    finally:
        Path(tmp).unlink(missing_ok=True)
    _forget_labs()
    return jsonify({"installed": info.as_dict()})


@api.post("/models")
@allow(PAIRED_KIT)
def receive_model() -> Response:
    """A trained model pushed by the lead (at most the app's upload limit): vetted as a model
    import is, and filed under this kit's teacher."""
    from labkit.web.learn import service

    project = models_out.receive_model(service(), request.get_data(cache=True))
    return jsonify({"installed": {"project": project.id, "name": project.name,
                                  "kind": project.kind}})


def _forget_labs() -> None:
    """New or changed labs: the next page reads the lab folders again."""
    from labkit import curriculum as curriculum_mod
    from labkit.projects import registry

    for module in (curriculum_mod, registry):
        cache = getattr(module, "_cached", None)
        if isinstance(cache, dict):
            cache.clear()


@api.get("/portfolio")
@allow(PAIRED_KIT)
def portfolio() -> Response:
    return jsonify(records.export_records(_store()))


@api.post("/roster")
@allow(PAIRED_KIT)
def roster() -> Response:
    return jsonify(records.apply_roster(_store(), json_body()))


@api.post("/lab")
@allow(PAIRED_KIT)
def room_lab() -> Response:
    """The lab the room works on now: `/room/now` on this kit opens it (null: none)."""
    lab_id = json_body().get("lab_id")
    if lab_id is not None:
        from labkit.web.labs import curriculum
        if not isinstance(lab_id, str):
            raise Problem(N_("The lab id must be text."), code="bad_input")
        curriculum().lesson(lab_id)       # a lab this kit does not have: a clear 404
    fleet().state.set_room_lab(lab_id)
    return jsonify({"lab_id": lab_id, "stopped_run": _stop_other_lab(lab_id)})


def _stop_other_lab(lab_id: str | None) -> int | None:
    """Stopping the room's lab (None) stops the lab running on this kit, and moving the room
    to another lab stops a run of a different one: the run ends `stopped`, keeping every
    step it passed. Returns the stopped run's id, or None."""
    from labkit.web.labs import runner

    labs = runner()
    active = labs.active
    if active is None or active.project_id == lab_id:
        return None
    labs.stop("stopped", run_id=active.run_id)
    return active.run_id


@bp.get("/room/now")
@allow(ANONYMOUS)
def room_now() -> Any:
    lab_id = fleet().state.room_lab()
    if isinstance(lab_id, str):
        return redirect(url_for("labs.lab_page", lesson_id=lab_id))
    return redirect(url_for("home.index"))


@bp.get("/room/pairing")
@allow(KIT_LOCAL, TEACHER)
def pairing_code() -> Any:
    """The pairing code, on this kit's own screen (or its teacher's console)."""
    shown = pairing.shown_code(fleet().state)
    if request.args.get("format") == "json":
        return jsonify({"pairing": shown, "kit_id": kit_id(), "name": fleet().state.name()})
    return render_template("fleet/pairing.html", shown=shown, name=fleet().state.name())


# ---- the lead kit's room page ------------------------------------------------------------------
def _results(results: list[Any]) -> Response:
    rows = [r.as_dict() for r in results]
    return jsonify({"results": rows, "ok": sum(r["ok"] for r in rows),
                    "failed": sum(not r["ok"] for r in rows)})


def _chosen() -> list[str] | None:
    body = request.get_json(silent=True)
    kits = body.get("kits") if isinstance(body, dict) else None
    if kits is None:
        return None
    if not isinstance(kits, list) or not all(isinstance(k, str) for k in kits):
        raise LabkitError(_("Pick the kits from the list."), code="bad_input")
    return kits


@bp.get("/teacher/room")
@allow(TEACHER)
def room_page() -> str:
    from labkit.web.labs import curriculum, lang

    classes = _store().roster.classes()
    labs = [(lesson.id, lesson.t("title", lang()))
            for lesson in sorted(curriculum().lessons.values(), key=lambda x: x.id)]
    patterns = current_app.config.get("LABKIT_PACK_SEARCH", DEFAULT_SEARCH)
    found_packs = [p.name for p in labpack.find_packs(patterns)]
    return render_template("fleet/room.html", classes=classes, labs=labs,
                           found_packs=found_packs, installed=_packs(),
                           models=trained_models(),
                           name=fleet().state.name(),
                           kit_id=kit_id())


@bp.get("/teacher/room/state")
@allow(TEACHER)
def room_state() -> Response:
    """What the page shows and polls: paired kits (with the status zeroconf last heard from
    each, `heard` false for a kit added by address: the page then asks its signed status),
    and every kit heard on the network."""
    members = fleet().state.members()
    browser = fleet().browser
    heard = [k.as_dict() for k in browser.found()] if browser is not None else []
    by_id = {k["kit_id"]: k for k in heard}
    return jsonify({"kit_id": kit_id(), "name": fleet().state.name(),
                    "members": [{"kit_id": k, **{f: v for f, v in m.items() if f != "key"},
                                 "heard": k in by_id,
                                 "status": by_id[k]["status"] if k in by_id else None}
                                for k, m in sorted(members.items())],
                    "found": [{**k, "paired": k["kit_id"] in members} for k in heard],
                    "discovery": browser is not None})


@bp.post("/teacher/room/status")
@allow(TEACHER)
def room_status() -> Response:
    return _results(client().status(_chosen()))


@bp.post("/teacher/room/pair/start")
@allow(TEACHER)
def room_pair_start() -> Response:
    return jsonify(client().start_pairing(str(json_body().get("address", ""))))


@bp.post("/teacher/room/pair/confirm")
@allow(TEACHER)
def room_pair_confirm() -> Response:
    body = json_body()
    return jsonify(client().confirm_pairing(str(body.get("address", "")),
                                            str(body.get("code", "")),
                                            str(body.get("challenge", ""))))


@bp.post("/teacher/room/unpair")
@allow(TEACHER)
def room_unpair() -> Response:
    return _results([client().unpair(str(json_body().get("kit_id", "")))])


@bp.post("/teacher/room/push")
@allow(TEACHER)
def room_push() -> Response:
    """Push a lab pack to the room: one installed on this kit (`pack_id`) or one found on its
    USB drive (`index` in that list, never a path)."""
    body = json_body()
    pack_id, index = body.get("pack_id"), body.get("index")
    if isinstance(pack_id, str):
        outbox = fleet().state.root / "outbox"
        path = packs_out.installed_pack_file(current_app.config["LABKIT_SETTINGS"].data_dir,
                                             pack_id, outbox)
        try:
            return _results(client().push_pack(path, _chosen()))
        finally:
            path.unlink(missing_ok=True)
    return _results(client().push_pack(usb_pack(index), _chosen()))


@bp.post("/teacher/room/push-model")
@allow(TEACHER)
def room_push_model() -> Response:
    """Push a trained /learn model of this kit (a student's or the teacher's) to the room."""
    from labkit.web.learn import projects

    project_id = json_body().get("project_id")
    if not isinstance(project_id, str):
        raise LabkitError(_("Pick a trained model from the list."), code="bad_input")
    export = models_out.model_export(projects().get(project_id))
    return _results(client().push_model(export, _chosen()))


def trained_models() -> list[tuple[str, str]]:
    """(project id, "name — owner") of every trained /learn model on this kit."""
    from labkit.web.learn import projects

    names = {s.id: s.name for c in _store().roster.classes()
             for s in _store().roster.students(c.id)}
    out = []
    for p in projects().list():
        if p.get("trained") and "error" not in p:
            owner = names.get(p["owner"], "") if p.get("owner") is not None else _("Teacher")
            out.append((p["id"], f"{p['name']} — {owner}" if owner else p["name"]))
    return out


@bp.post("/teacher/room/roster")
@allow(TEACHER)
def room_roster() -> Response:
    class_id = json_body().get("class_id")
    if not isinstance(class_id, int) or isinstance(class_id, bool):
        raise LabkitError(_("Pick a class to copy."), code="bad_input")
    return _results(client().copy_roster(records.roster_payload(_store(), class_id),
                                         _chosen()))


@bp.post("/teacher/room/lab")
@allow(TEACHER)
def room_start_lab() -> Response:
    lab_id = json_body().get("lab_id")
    if lab_id is not None and not isinstance(lab_id, str):
        raise LabkitError(_("Pick a lab from the list."), code="bad_input")
    return _results(client().start_lab(lab_id, _chosen()))


@bp.post("/teacher/room/collect")
@allow(TEACHER)
def room_collect() -> Response:
    return _results(client().collect(_chosen(), check=records.records_ok))


@bp.get("/teacher/room/export.csv")
@allow(TEACHER)
def room_export() -> Response:
    """This kit's runs and every collected kit's, one row per run (each run UUID once)."""
    own = records.export_records(_store())
    rows = records.merge([own, *fleet().state.collected()])
    data = records.merged_csv(rows)
    return deliver({"room-export.csv": data}, "room-export.zip", plain_data=data,
                   plain_name="room-export.csv", plain_mime="text/csv")


def start_discovery(app: Any, *, host: str, port: int) -> list[Any]:
    """Announce this kit and listen for the others (for `labkit serve`); returns what to close.

    The announcement is built in the announcer's thread (reading the labs takes seconds on a
    busy Pi, and the kit must answer its first page meanwhile). A failure to use multicast is
    logged and the kit carries on: kits are then added by address."""
    from labkit.fleet.discovery import Announcer, Browser, txt_record
    from labkit.fleet.kitstatus import StatusAnnouncements

    with app.app_context():
        own_id = kit_id()
        browser = Browser(host=host, own_kit_id=own_id).start()
        fleet().browser = browser

    def status() -> KitStatus:
        with app.app_context():
            return kit_status()

    announced: list[KitStatus] = []

    def properties() -> dict[str, str]:
        now = status()
        announced.append(now)
        with app.app_context():
            return txt_record(kit_id=own_id, name=fleet().state.name(), version=__version__,
                              packs=_packs(), labs=len(_labs()), status=now)

    announcer = Announcer(host=host, port=port, properties=properties).start()
    # closed in this order: the status stops being re-announced before the kit says goodbye
    return [StatusAnnouncements(announcer, status, announced), announcer, browser]
