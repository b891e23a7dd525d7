"""Security headers on every response: what the page may load, who may frame it, caching.

- `Content-Security-Policy`: everything from the kit itself and nowhere else; no inline
  scripts or styles (pages pass data in `data-` attributes or `<script type="application/json">`
  blocks, which never run); no plugins; forms post only to the kit; no framing
  (`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for older browsers).
- `X-Content-Type-Options: nosniff`, so an uploaded sample is never run as a script.
- `Cache-Control: no-store` on every page and API answer that did not choose otherwise:
  teacher pages and anything carrying a child's data (portfolio, exports, samples) must not
  stay in a shared classroom browser's cache. Only the kit's static files are cached.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))


def install_security_headers(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Any) -> Any:
        headers = response.headers
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.endpoint != "static" and "Cache-Control" not in headers:
            headers["Cache-Control"] = "no-store"
        return response
