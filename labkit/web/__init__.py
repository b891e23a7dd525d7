"""The kit's web app: `create_app(settings)` builds the Flask app around a KitRuntime.

Served by waitress (threads, never Flask's reloader). Chinese first: the locale is the one
picked with the page's switch, else the kit's `LABKIT_LANG` (zh_CN by default).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from labkit import __version__
from labkit.config import LANGUAGES, Settings
from labkit.errors import use_translator
from labkit.fsutil import private_secret
from labkit.runtime import KitRuntime
from labkit.web import (audio, auth, bench, code, events, exports, fleet, grading, home,
                        impl_report, kit_controls, kit_qr, lab_models, labs, learn, lessons, mirror,
                        next_class, overlay, packs, pe_chart, pipeline, portfolio, primary, scenes,
                        semester_plan, showcase, stream, student_signin, teacher, vision,
                        voice_answer)
from labkit.web.access import (PAIRED_KIT, STUDENT, TEACHER, install_access_control,
                               register_role_check)
from labkit.web.common import SafeJSONProvider, StoreIntConverter
from labkit.web.headers import install_security_headers
from labkit.web.lazy_rules import LazyBuildRule
from labkit.web.errors import register_error_handlers, translate_for_request
from labkit.i18n import catalogue_dirs

MAX_UPLOAD_BYTES = 20 * 1024 * 1024

csrf = CSRFProtect()
babel = Babel()


def _secret_key(settings: Settings) -> str:
    """A per-kit secret kept in the data dir so sessions survive a restart."""
    return private_secret(settings.data_dir / "secret_key", lambda: secrets.token_hex(32))


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
    app.url_rule_class = LazyBuildRule  # before any route is added
    app.url_map.converters["int"] = StoreIntConverter   # before any route is added
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        MAX_CONTENT_LENGTH=MAX_UPLOAD_BYTES,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_DEFAULT_LOCALE=settings.lang,
        BABEL_TRANSLATION_DIRECTORIES=";".join(str(d) for d in catalogue_dirs()),
        LABKIT_SETTINGS=settings,
        JSON_AS_ASCII=False,
    )
    app.json = SafeJSONProvider(app)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    use_translator(translate_for_request)
    app.extensions["labkit"] = runtime
    babel.init_app(app, locale_selector=_select_locale)
    csrf.init_app(app)
    register_error_handlers(app)
    for module in (home, bench, stream, events, labs, portfolio, teacher, student_signin, learn,
                   audio, vision, overlay, grading, kit_qr, packs, showcase, lessons, kit_controls,
                   semester_plan, impl_report, primary, code, fleet, mirror, scenes, exports,
                   voice_answer, next_class, pe_chart, lab_models, pipeline):
        app.register_blueprint(module.bp)
    app.register_blueprint(fleet.api)
    csrf.exempt(fleet.api)          # signed kit-to-kit calls carry no session cookie
    register_role_check(STUDENT, auth.is_student)
    register_role_check(TEACHER, auth.is_teacher)
    register_role_check(PAIRED_KIT, fleet.is_paired_kit)
    install_access_control(app, labs.refuse_access, strict=True)
    install_security_headers(app)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        locale = _select_locale()
        return {"lang": locale, "html_lang": locale.replace("_", "-"), "version": __version__,
                "hardware": runtime.hardware, "runtime": runtime}

    return app
