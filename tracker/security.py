"""Request and response safety: the client address behind trusted reverse proxies (ProxyFix), refusal of
NUL bytes, and response headers (CSP without inline script, no framing, no sniffing, no caching of private
pages)."""

import ipaddress
from itertools import chain

from flask import abort, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import ConfigError

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _sent_text():
    """Every piece of text the client sent that may be stored or looked up in the database."""
    return chain(
        (request.path, request.headers.get("User-Agent", "")),
        *request.args.listvalues(),
        *request.form.listvalues(),
    )


def trust_proxies(app):
    """Believe the last TRACKER_TRUSTED_PROXIES hops of X-Forwarded-For and X-Forwarded-Proto.

    With 0 (the default) nothing is wrapped: the address is the connecting one, and a forged header changes
    nothing. With N, the client address (sign-in throttling, audit trail, sign-in sessions) is the one the
    Nth proxy from the app saw, and the scheme is the one the client used (secure cookies, HSTS, links).
    X-Forwarded-Host/-Port/-Prefix are not believed (x_host=x_port=x_prefix=0): the proxy passes the Host
    header on (`proxy_set_header Host $host`), the app is served at the root of its host, and a proxy that
    does not set X-Forwarded-Host passes the client's own one through, which would let anyone choose the
    host written into password-reset and invitation links.
    """
    count = app.config["TRACKER_TRUSTED_PROXIES"]
    if count < 0:
        raise ConfigError(
            "TRACKER_TRUSTED_PROXIES must be 0 (clients connect directly) or the number of "
            "reverse proxies in front of the app."
        )
    if count:
        app.wsgi_app = ProxyFix(
            _plausible_address(app.wsgi_app), x_for=count, x_proto=count, x_host=0, x_port=0, x_prefix=0
        )


def _plausible_address(wsgi_app):
    """Keep the connecting address when the forwarded one is not an IP address (a proxy that passes a
    client's header on unchecked): it is stored in columns of 64 characters and shown in the audit trail."""

    def middleware(environ, start_response):
        try:
            ipaddress.ip_address(environ.get("REMOTE_ADDR", ""))
        except ValueError:
            environ["REMOTE_ADDR"] = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", "")
        return wsgi_app(environ, start_response)

    return middleware


def register_security(app):
    trust_proxies(app)

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
