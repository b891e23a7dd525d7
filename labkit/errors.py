"""One error type for everything a user can get wrong, and the text it shows.

A `LabkitError` carries a plain-words message and the fix, so the CLI can print one line and
exit 2, and the web layer can turn it into a JSON error without a traceback.

Every layer below the web app raises such errors, but only the layer that shows them knows the
reader's language (a browser's, or `LABKIT_LANG` in a terminal), and only `labkit.web` may use
Flask-Babel. So lower layers build a `Message` — an English message id and its parameters —
with `lazy_gettext` (imported as `_`, which `python -m labkit.i18n check` extracts), and the
text is translated only when it is turned into a string: through the translator the showing
layer installed with `use_translator` (the web app: Flask-Babel for the current request; the
CLI: Babel's catalogues for `LABKIT_LANG`). With none installed the English text is shown.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Union

Translator = Callable[[str], str]


def _untranslated(msgid: str) -> str:
    return msgid


_translator: Translator = _untranslated
_translator_lock = threading.Lock()


def use_translator(translate: Translator | None) -> Translator:
    """Install the function that translates message ids (None: English); returns the previous
    one. One per process, shared by all threads: waitress' worker threads must see it too."""
    global _translator
    with _translator_lock:
        previous, _translator = _translator, translate or _untranslated
    return previous


def translate(msgid: str) -> str:
    """A message id in the installed translator's language."""
    return _translator(msgid)


class Message:
    """Text for a person, kept as a message id and parameters until it is shown.

    `str(message)` translates it with the installed translator and fills in the parameters
    (which may be Messages themselves, translated the same way). It has no `__html__`: Jinja
    escapes it like any string, so a student's name in a parameter stays text.
    """

    __slots__ = ("msgid", "params")

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def render(self, gettext: Translator | None = None) -> str:
        """The text in `gettext`'s language (default: the installed translator's)."""
        gettext = gettext or _translator
        text = gettext(self.msgid)
        if not self.params:
            return text
        return text % {k: v.render(gettext) if isinstance(v, Message) else v
                       for k, v in self.params.items()}

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"Message({self.msgid!r}{params})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Message):
            return (self.msgid, self.params) == (other.msgid, other.params)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.msgid)


def lazy_gettext(msgid: str, **params: Any) -> Message:
    """Mark `msgid` for translation and keep it for later: `from labkit.errors import
    lazy_gettext as _` in any layer below the web app."""
    return Message(msgid, **params)


Text = Union[str, Message]


class LabkitError(Exception):
    """A problem the user can fix; `code` is a stable machine-readable slug.

    `message` and `fix` may be plain strings or Messages; reading them gives the text in the
    installed translator's language, at the time it is read (so an error raised in a worker
    thread reads in the language of the request that shows it).
    """

    exit_code = 2

    def __init__(self, message: Text, *, fix: Text = "", code: str = "bad_input") -> None:
        super().__init__(message)
        self.message_text = message
        self.fix_text = fix
        self.code = code

    @property
    def message(self) -> str:
        return str(self.message_text)

    @message.setter
    def message(self, value: Text) -> None:
        self.message_text = value

    @property
    def fix(self) -> str:
        return str(self.fix_text)

    @fix.setter
    def fix(self, value: Text) -> None:
        self.fix_text = value

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The message and the fix on one line, for terminals and logs."""
        message, fix = self.message, self.fix
        return f"{message} — {fix}" if fix else message
