"""The sound page: live meter, waveform/spectrogram with speech, claps, voice commands, and the
teachable command words (record examples, train in seconds, trigger the kit's devices).

All sound detectors run in one `AudioMonitor` service per kit process, fed by the shared
microphone; the page gets `audio.*` events over SSE. With no microphone the page says so
plainly and everything else (upload a WAV, the bench, the other labs) keeps working.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import force_locale, gettext as _

from labkit.atrest import sealer_for
from labkit.drivers.pins import Holder, PinsBusy
from labkit.drivers.wav import WavRefused, read_wav
from labkit.audio_ai import vocabulary
from labkit.errors import LabkitError
from labkit.web.common import json_body, kit_runtime as runtime
from labkit.web.access import ANONYMOUS, STUDENT, allow

log = logging.getLogger(__name__)

bp = Blueprint("audio", __name__)

RECORD_SECONDS = (0.5, 3.0)
ACTIONS = ("none", "led_on", "led_off", "led_toggle", "fan_on", "fan_off")
# the words come from the kit's one list (labkit.audio_ai.vocabulary), shared with /learn
DEFAULT_ACTIONS = {**vocabulary.audio_defaults(), "double_clap": "none"}



def model_store() -> Any:
    """The kit's model store, shared with the other pages (None if it cannot be opened)."""
    return runtime().model_store


def models_dir() -> Path:
    return Path(runtime().settings.data_dir) / "audio" / "commands"


class AudioPage:
    """The monitor plus the page's choices (which word drives which device)."""

    def __init__(self, rt: Any, store: Any, mic: Any) -> None:
        from labkit.audio_ai.monitor import AudioMonitor

        self.rt = rt
        self.mic = mic
        self.monitor = AudioMonitor(self.mic, bus=rt.bus, store=store,
                                    pin_factory=rt.factory)
        self.bindings: dict[str, str] = dict(DEFAULT_ACTIONS)
        if (models_dir_for(rt) / "commands.onnx").exists():
            try:
                self.monitor.commands.load(models_dir_for(rt),
                                           sealer_for(rt.settings.data_dir))
            except LabkitError as exc:
                log.warning("saved command words not loaded: %s", exc.one_line())
        self._apply_bindings()
        self.monitor.start()

    def _action(self, name: str) -> Callable[[], Any] | None:
        if name == "none":
            return None
        device, verb = name.split("_", 1)
        if device not in self.rt.wiring:
            return None

        def act() -> None:
            try:
                with self.rt.pins.lease(Holder("audio", "audio")):
                    getattr(self.rt.kit.device(device), verb)()
            except PinsBusy as exc:   # a lab holds the outputs: heard, not acted on
                log.info("audio action %s refused: %s", name, exc.one_line())
                self.rt.bus.publish("pins.refused", {"by": "audio", "action": name,
                                                     "holder": exc.holder.describe()})
        return act

    def _apply_bindings(self) -> None:
        self.monitor.actions = {k: a for k, v in self.bindings.items()
                                if k != "double_clap" and (a := self._action(v)) is not None}
        self.monitor.clap_action = self._action(self.bindings.get("double_clap", "none"))

    def reset_bindings(self) -> None:
        """Back to the kit's own word → action choices: a class's changes end with it."""
        self.bindings = dict(DEFAULT_ACTIONS)
        self._apply_bindings()

    def bind(self, trigger: str, action: str) -> None:
        if action not in ACTIONS:
            raise LabkitError(_("Unknown action %(a)s.", a=action), code="bad_input",
                              fix=_("Pick an action from the list."))
        trigger = " ".join(str(trigger).split())[:40]
        if not trigger:
            raise LabkitError(_("Say which word or sound should trigger the action."),
                              code="bad_input", fix=_("Pick a word from the list."))
        self.bindings[trigger] = action
        self._apply_bindings()

    def close(self) -> None:
        self.monitor.close()


def models_dir_for(rt: Any) -> Path:
    return Path(rt.settings.data_dir) / "audio" / "commands"


def page() -> AudioPage:
    rt = runtime()
    existing = rt.services.get("audio")
    if existing is not None:
        return existing
    # resolve the microphone and the store first: KitRuntime.service holds the runtime's
    # lock while the factory runs, and both of these take it too
    mic = rt.microphone
    store = model_store()
    return rt.service("audio", lambda: AudioPage(rt, store, mic))



def _mic_message() -> str | None:
    rt = runtime()
    mic = rt.microphone
    if mic is not None:
        if mic.connected:
            return None
        # configured but not there (never plugged in, or unplugged mid-lesson): the capture
        # thread keeps looking, so plugging it in is all it takes
        return _("No microphone is connected. Plug it in: the kit picks it up by itself within a "
                 "few seconds. Meanwhile you can test with a WAV file, and the rest of the kit "
                 "keeps working.")
    return _("No microphone was found. Plug in a USB microphone and restart the kit; meanwhile "
             "you can test with a WAV file, and the rest of the kit keeps working.")


def _uploaded_wav() -> Any:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise LabkitError(_("Choose a WAV file first."), code="bad_audio",
                          fix=_("Pick a .wav recording on your computer."))
    data = upload.read()
    if not data:
        raise LabkitError(_("The file is empty."), code="bad_audio",
                          fix=_("Record or export it again as a WAV file."))
    try:
        return read_wav(data)
    except WavRefused as exc:
        raise LabkitError(_(exc.msgid, **exc.params), code="bad_audio",
                          fix=_(exc.fix_msgid, max=exc.params["max"])) from exc
    except LabkitError as exc:
        raise LabkitError(_("This file is not a WAV recording the kit can read."),
                          code="bad_audio",
                          fix=_("Save it as a PCM WAV file (8 to 48 kHz, mono or stereo).")) from exc


def _state() -> dict[str, Any]:
    p = page()
    rt = runtime()
    out = p.monitor.state()
    out.update(microphone={"name": p.mic.name if p.mic else None,
                           "connected": bool(p.mic and p.mic.connected),
                           "simulated": bool(p.mic and rt.hardware == "sim"),
                           "message": _mic_message()},
               bindings=p.bindings, actions=list(ACTIONS))
    return out


# ---------------------------------------------------------------------------------------------
# page
# ---------------------------------------------------------------------------------------------

@bp.get("/audio")
@allow(ANONYMOUS)
def index() -> str:
    p = page()
    return render_template("audio/index.html", state=_state(), mic_message=_mic_message(),
                           vad_error=p.monitor.vad_error, kws_error=p.monitor.kws_error,
                           actions=ACTIONS, command_words=vocabulary.words())


@bp.get("/api/audio/state")
@allow(ANONYMOUS)
def state() -> Response:
    return jsonify(_state())


# ---------------------------------------------------------------------------------------------
# settings, test clips, speech out
# ---------------------------------------------------------------------------------------------

def _number(data: dict[str, Any], key: str, lo: float, hi: float) -> float | None:
    if key not in data or data[key] is None:
        return None
    try:
        value = float(data[key])
    except (TypeError, ValueError):
        raise LabkitError(_("%(key)s must be a number.", key=key), code="bad_input",
                          fix=_("Move the slider again.")) from None
    if not lo <= value <= hi:
        raise LabkitError(_("%(key)s must be between %(lo)s and %(hi)s.", key=key, lo=lo, hi=hi),
                          code="bad_input", fix=_("Move the slider again."))
    return value


@bp.post("/api/audio/settings")
@allow(STUDENT)
def settings() -> Response:
    data = json_body()
    m = page().monitor
    if (v := _number(data, "kws_threshold", 0.0, 1.0)) is not None and m.kws is not None:
        m.kws.threshold = v
    if (v := _number(data, "words_threshold", 0.0, 1.0)) is not None:
        m.commands.threshold = m.commands.fixed_threshold = v
    if (v := _number(data, "level_threshold_db", 30.0, 120.0)) is not None:
        m.level.threshold_db = v
    if (v := _number(data, "clap_threshold_db", 6.0, 40.0)) is not None:
        m.clap.threshold_db = v
    return jsonify(_state())


@bp.post("/api/audio/bind")
@allow(STUDENT)
def bind() -> Response:
    data = json_body()
    page().bind(str(data.get("trigger", "")), str(data.get("action", "")))
    return jsonify({"bindings": page().bindings})


@bp.post("/api/audio/upload")
@allow(STUDENT)
def upload() -> Response:
    """Test with a WAV: analysed at once, and played into the simulated microphone."""
    samples = _uploaded_wav()
    p = page()
    result = p.monitor.analyse(samples)
    injected = False
    if p.mic is not None and p.mic.connected and runtime().hardware == "sim":
        p.mic.inject(samples)
        injected = True
    result["injected"] = injected
    return jsonify(result)


def N_(message: str) -> str:
    """Marks a message id for extraction; translated where it is shown."""
    return message


# Ready-made sentences of the talking-robot panel (parts/_talk.html), in both languages: the
# English message id is the English sentence, its zh_CN translation the Chinese one.
TALK_SENTENCES = (
    N_("Hello, I am the kit."),
    N_("Nice to meet you!"),
    N_("What a lovely day today!"),
    N_("Let's learn about AI together."),
)


@bp.app_template_global()
def talk_sentences() -> list[dict[str, str]]:
    """Each ready-made sentence as {"zh_CN": …, "en": …}, whatever the page's language, so a
    child on a Chinese page can still pick an English sentence."""
    out = []
    for msgid in TALK_SENTENCES:
        pair = {}
        for lang in ("zh_CN", "en"):
            with force_locale(lang):
                pair[lang] = _(msgid)
        out.append(pair)
    return out


SPEED_WPM = (80.0, 260.0)      # espeak-ng words per minute: slower than this drags, faster blurs
PITCH = (0.0, 99.0)            # espeak-ng's pitch scale
PURPOSES = ("read", "talk")    # a step read aloud, or a sentence a child chose to make the kit say


@bp.post("/api/audio/say")
@allow(STUDENT)
def say() -> Response:
    """The kit says a text (espeak-ng, text on stdin). Publishes `audio.said` so a lab can see
    that the kit spoke and in which language — with a digest of the sentence, never the text,
    so a running lab's log keeps nothing a child typed."""
    data = json_body()
    text = str(data.get("text", "")).strip()
    lang = str(data.get("lang", "zh_CN"))
    speed = _number(data, "speed", *SPEED_WPM)
    pitch = _number(data, "pitch", *PITCH)
    purpose = str(data.get("purpose") or "read")
    if purpose not in PURPOSES:
        raise LabkitError(_("Unknown purpose %(p)s.", p=purpose[:20]), code="bad_input",
                          fix=_("Leave it out, or use read or talk."))
    speed = 150 if speed is None else int(round(speed))
    pitch = 50 if pitch is None else int(round(pitch))
    runtime().speaker.say(text, lang, wait=False, speed=speed, pitch=pitch)
    sentence = hashlib.sha256(" ".join(text.split()).casefold().encode()).hexdigest()[:12]
    runtime().bus.publish("audio.said", {"lang": lang, "speed": speed, "pitch": pitch,
                                         "purpose": purpose, "sentence": sentence,
                                         "chars": len(text)})
    return jsonify({"said": text, "lang": lang, "speed": speed, "pitch": pitch})


# ---------------------------------------------------------------------------------------------
# English commands (pocketsphinx grammar)
# ---------------------------------------------------------------------------------------------

@bp.post("/api/audio/kws/commands")
@allow(STUDENT)
def kws_commands() -> Response:
    m = page().monitor
    if m.kws is None:
        raise LabkitError(_("English voice commands are not available on this kit."),
                          code="no_kws", fix=_("Install pocketsphinx: make run"))
    data = json_body()
    commands = data.get("commands")
    if isinstance(commands, str):
        commands = [c for c in commands.replace("，", ",").split(",")]
    if not isinstance(commands, list):
        raise LabkitError(_("Give the commands as a list."), code="bad_input",
                          fix=_("Separate commands with commas."))
    m.kws.set_commands([str(c) for c in commands])
    return jsonify({"commands": m.kws.commands})


# ---------------------------------------------------------------------------------------------
# teachable command words
# ---------------------------------------------------------------------------------------------

def _word(data: dict[str, Any]) -> str:
    word = " ".join(str(data.get("word", "")).split())
    if not word:
        raise LabkitError(_("Type the word first."), code="bad_input",
                          fix=_("For example 开灯."))
    return word


def _add(word: str, samples: Any) -> Response:
    words = page().monitor.commands
    n = words.add_example(word, samples)
    return jsonify({"word": word, "count": n, "counts": words.counts()})


@bp.post("/api/audio/words/record")
@allow(STUDENT)
def record_example() -> Response:
    data = json_body()
    word = _word(data)
    mic = page().mic
    if mic is None or not mic.connected:
        raise LabkitError(_mic_message() or "", code="no_microphone",
                          fix=_("Upload WAV examples instead."))
    seconds = _number(data, "seconds", *RECORD_SECONDS) or 1.5
    return _add(word, mic.record(seconds))


@bp.post("/api/audio/words/example")
@allow(STUDENT)
def upload_example() -> Response:
    word = _word(request.form)
    return _add(word, _uploaded_wav())


@bp.post("/api/audio/words/delete")
@allow(STUDENT)
def delete_word() -> Response:
    data = json_body()
    words = page().monitor.commands
    words.remove_word(_word(data))
    return jsonify({"counts": words.counts()})


@bp.post("/api/audio/words/train")
@allow(STUDENT)
def train() -> Response:
    data = json_body(optional=True)
    kind = str(data.get("kind", "logistic"))
    words = page().monitor.commands
    if "_background" not in words.examples:
        raise LabkitError(_("Record some background first (room noise, other talk)."),
                          code="too_few_classes",
                          fix=_("Press 'Record background' and stay quiet or chat for 2 seconds."))
    metrics = words.train(kind=kind)
    return jsonify({"metrics": metrics, "counts": words.counts()})


@bp.post("/api/audio/words/save")
@allow(STUDENT)
def save() -> Response:
    words = page().monitor.commands
    path = words.save(models_dir(), sealer_for(runtime().settings.data_dir))
    return jsonify({"saved": True, "file": path.name})
