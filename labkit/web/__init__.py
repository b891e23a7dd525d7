"""The kit's web app: `create_app(settings)` builds the Flask app around a KitRuntime.

Served by waitress (threads, never Flask's reloader). Chinese first: the locale is the one
picked with the page's switch, else the kit's `LABKIT_LANG` (zh_CN by default).
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from labkit import __version__
from labkit.config import LANGUAGES, Settings
from labkit.errors import use_translator
from labkit.fsutil import atomic_write_text
from labkit.runtime import KitRuntime
from labkit.web import audio, bench, events, home, labs, learn, portfolio, stream, teacher, vision
from labkit.web.errors import JSONProvider, register_error_handlers, translate_for_request
from labkit.i18n import catalogue_dirs

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

csrf = CSRFProtect()
babel = Babel()


def _secret_key(settings: Settings) -> str:
    """A per-kit secret kept in the data dir so sessions survive a restart."""
    path = settings.data_dir / "secret_key"
    try:
        key = path.read_text().strip()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    key = secrets.token_hex(32)
    atomic_write_text(path, key)
    os.chmod(path, 0o600)
    return key


def _select_locale() -> str:
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    from flask import current_app
    return current_app.config["LABKIT_SETTINGS"].lang


def create_app(settings: Settings | None = None, runtime: KitRuntime | None = None) -> Flask:
    """Build the app. Pass a runtime to share hardware with other parts of the process."""
    settings = settings or Settings.from_env()
    runtime = runtime or KitRuntime(settings)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=settings.lang,
        BABEL_TRANSLATION_DIRECTORIES=";".join(str(d) for d in catalogue_dirs()),
        LABKIT_SETTINGS=settings,
        JSON_AS_ASCII=False,
    )
    app.json = JSONProvider(app)
    use_translator(translate_for_request)
    app.extensions["labkit"] = runtime
    babel.init_app(app, locale_selector=_select_locale)
    csrf.init_app(app)
    register_error_handlers(app)
    for module in (home, bench, stream, events, labs, portfolio, teacher, learn, audio, vision):
        app.register_blueprint(module.bp)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        locale = _select_locale()
        return {"lang": locale, "html_lang": locale.replace("_", "-"), "version": __version__,
                "hardware": runtime.hardware, "runtime": runtime}

    @app.after_request
    def _no_external(response: Any) -> Any:
        # The page must never load anything from outside the kit.
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
            "script-src 'self' 'unsafe-inline'; connect-src 'self'; media-src 'self' blob:")
        return response

    return app
