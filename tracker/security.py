"""Response headers: CSP without inline script, no framing, no sniffing, no caching of private pages."""
from itertools import chain

from flask import abort, request
from flask_login import current_user

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _sent_text():
    """Every piece of text the client sent that may be stored or looked up in the database."""
    return chain((request.path, request.headers.get("User-Agent", "")),
                 *request.args.listvalues(), *request.form.listvalues())


def register_security(app):
    @app.url_value_preprocessor  # app-wide ones run first, before a school is looked up from the URL
    def refuse_nul_bytes(endpoint, values):
        # No form or address legitimately holds a NUL byte, and PostgreSQL cannot store one (a 500 otherwise).
        if any("\x00" in value for value in _sent_text()):
            abort(400, "What was sent contains a NUL character, which is never valid here.")

    @app.after_request
    def headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if app.config["TRACKER_ENV"] == "production":
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        if current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response
