"""Every setting, in one place: build_config() reads the TRACKER_* environment variables (and PORT), parses
their types and refuses impossible values with a ConfigError naming the variable. The rest of the app reads
`current_app.config[...]`, never the environment (tests/test_settings.py checks that)."""

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
#: the fonts PDFs embed (Debian's fonts-dejavu-core), unless TRACKER_FONT_DIR says otherwise
DEFAULT_FONT_DIR = "/usr/share/fonts/truetype/dejavu"
#: TRACKER_SMTP_TLS: STARTTLS on a plain connection, TLS from the start, or neither
SMTP_TLS_MODES = ("starttls", "ssl", "none")


def _env(name, default=None):
    return os.environ.get(f"TRACKER_{name}", default)


def _number(name, default, kind=int, minimum=None):
    """TRACKER_<name> as a number (`kind`), `default` when unset or empty; a ConfigError names a bad value."""
    raw = _env(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = kind(raw.strip())
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ConfigError(f"TRACKER_{name} must be {what}, not {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"TRACKER_{name} must be at least {minimum}, not {raw!r}.")
    return value


def _flag(name, default: bool) -> bool:
    """TRACKER_<name> as on/off: 1/true/yes/on or 0/false/no/off (any case); anything else: ConfigError."""
    raw = _env(name)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"TRACKER_{name} must be 1 or 0 (on or off), not {raw!r}.")


def _base_url(overrides: dict, production: bool) -> str:
    """The public address links in e-mail, the CLI and calendar feeds start with (tracker/links.py).

    TRACKER_BASE_URL; else, where a test or benchmark pins SERVER_NAME, that host; else the address `make run`
    serves, http://127.0.0.1:$PORT. Production must say it: a link never follows a request's Host header."""
    value = overrides.get("TRACKER_BASE_URL") or _env("BASE_URL")
    if not value:
        if production:
            raise ConfigError(
                "TRACKER_BASE_URL must be set when TRACKER_ENV=production: the address people "
                "reach the app at, e.g. https://tracker.example.org (e-mail links start with "
                "it)."
            )
        if overrides.get("SERVER_NAME"):
            return f"{overrides.get('PREFERRED_URL_SCHEME', 'http')}://{overrides['SERVER_NAME']}"
        port = os.environ.get("PORT", "").strip() or "5000"
        if not port.isdigit():
            raise ConfigError(f"PORT must be a port number, not {port!r}.")
        value = f"http://127.0.0.1:{port}"
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            f"TRACKER_BASE_URL must be an http:// or https:// address such as "
            f"https://tracker.example.org, not {value!r}."
        )
    return value.strip().rstrip("/")


def _instance_secret(instance_path: Path, name: str = "secret_key") -> str:
    """Return the embedded default's secret key (or audit key: `name`), generated once, kept in instance/."""
    key_file = instance_path / name
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago: use theirs
        import time

        for _ in range(50):
            if existing := key_file.read_text().strip():
                return existing
            time.sleep(0.01)
        raise
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


#: shortest audit key accepted (a generated one is 64 hex characters)
MIN_AUDIT_KEY = 32


def _audit_keys(instance_path: Path, overrides: dict, production: bool) -> tuple[str, list[str]]:
    """TRACKER_AUDIT_KEY (current) and TRACKER_AUDIT_OLD_KEYS (comma-separated, still used to verify)."""
    key = overrides.get("TRACKER_AUDIT_KEY") or _env("AUDIT_KEY")
    if not key:
        if production:
            raise ConfigError(
                "TRACKER_AUDIT_KEY must be set when TRACKER_ENV=production (keep it outside "
                "the database; python -c 'import secrets; print(secrets.token_hex(32))' makes "
                "one)."
            )
        key = _instance_secret(instance_path, "audit_key")
    old = overrides.get("TRACKER_AUDIT_OLD_KEYS", _env("AUDIT_OLD_KEYS", ""))
    old = [k.strip() for k in (old.split(",") if isinstance(old, str) else old) if k.strip()]
    for candidate in [key, *old]:
        if len(candidate) < MIN_AUDIT_KEY:
            raise ConfigError(
                f"Audit keys (TRACKER_AUDIT_KEY, TRACKER_AUDIT_OLD_KEYS) must be at least "
                f"{MIN_AUDIT_KEY} characters long."
            )
    return key, [k for k in old if k != key]


class ConfigError(RuntimeError):
    """The settings cannot make a safe app."""


#: sign-in with an OpenID Connect provider (tracker/auth/oidc.py): where each provider's discovery document is
GOOGLE_METADATA_URL = "https://accounts.google.com/.well-known/openid-configuration"
MICROSOFT_METADATA_URL = "https://login.microsoftonline.com/{tenant}/v2.0/.well-known/openid-configuration"
#: Microsoft's shared "tenants": any directory's accounts, whose addresses no one here vouches for
MICROSOFT_SHARED_TENANTS = ("common", "organizations", "consumers")


def _metadata_url(setting: str, value: str) -> str:
    """A provider's discovery address: https, or http on the loopback address only (the tests' provider)."""
    parts = urlsplit(value)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if not parts.netloc or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise ConfigError(
            f"{setting} must be an https:// address (http:// only on 127.0.0.1), not {value!r}."
        )
    return value


def _oidc_settings() -> dict:
    """The providers' client ids, secrets and discovery addresses; a provider without a client id is off."""
    google_id = (_env("OIDC_GOOGLE_CLIENT_ID") or "").strip()
    google_secret = (_env("OIDC_GOOGLE_CLIENT_SECRET") or "").strip()
    google_url = (_env("OIDC_GOOGLE_METADATA_URL") or "").strip() or GOOGLE_METADATA_URL
    microsoft_id = (_env("OIDC_MICROSOFT_CLIENT_ID") or "").strip()
    microsoft_secret = (_env("OIDC_MICROSOFT_CLIENT_SECRET") or "").strip()
    tenant = (_env("OIDC_MICROSOFT_TENANT") or "").strip()
    microsoft_url = (_env("OIDC_MICROSOFT_METADATA_URL") or "").strip()
    if google_id and not google_secret:
        raise ConfigError("TRACKER_OIDC_GOOGLE_CLIENT_SECRET must be set with TRACKER_OIDC_GOOGLE_CLIENT_ID.")
    if microsoft_id and not microsoft_secret:
        raise ConfigError(
            "TRACKER_OIDC_MICROSOFT_CLIENT_SECRET must be set with TRACKER_OIDC_MICROSOFT_CLIENT_ID."
        )
    if microsoft_id and (not tenant or tenant.lower() in MICROSOFT_SHARED_TENANTS or "/" in tenant):
        raise ConfigError(
            "TRACKER_OIDC_MICROSOFT_TENANT must be your directory's tenant id (or its domain), not "
            f"{tenant!r}: only a tenant's own administrators vouch for the addresses in its tokens."
        )
    if microsoft_id and not microsoft_url:
        microsoft_url = MICROSOFT_METADATA_URL.format(tenant=tenant)
    return {
        "TRACKER_OIDC_GOOGLE_CLIENT_ID": google_id,
        "TRACKER_OIDC_GOOGLE_CLIENT_SECRET": google_secret,
        "TRACKER_OIDC_GOOGLE_METADATA_URL": _metadata_url("TRACKER_OIDC_GOOGLE_METADATA_URL", google_url),
        "TRACKER_OIDC_MICROSOFT_CLIENT_ID": microsoft_id,
        "TRACKER_OIDC_MICROSOFT_CLIENT_SECRET": microsoft_secret,
        "TRACKER_OIDC_MICROSOFT_TENANT": tenant,
        "TRACKER_OIDC_MICROSOFT_METADATA_URL": (
            _metadata_url("TRACKER_OIDC_MICROSOFT_METADATA_URL", microsoft_url) if microsoft_url else ""
        ),
        "TRACKER_OIDC_LIMIT": _env("OIDC_LIMIT", "30 per 5 minutes"),
    }


def build_config(instance_path: Path, overrides: dict | None = None) -> dict:
    """Return the Flask config for the environment, with overrides (tests) applied last."""
    overrides = overrides or {}
    env = overrides.get("TRACKER_ENV", _env("ENV", "development"))
    production = env == "production"
    db_url = overrides.get("SQLALCHEMY_DATABASE_URI") or _env(
        "DATABASE_URL", f"sqlite:///{instance_path / 'tracker.sqlite3'}"
    )
    secret = overrides.get("SECRET_KEY") or _env("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError("TRACKER_SECRET_KEY must be set when TRACKER_ENV=production.")
        secret = _instance_secret(instance_path)
    audit_key, audit_old_keys = _audit_keys(instance_path, overrides, production)
    base_url = _base_url(overrides, production)
    smtp_tls = (_env("SMTP_TLS") or "starttls").strip().lower()
    if smtp_tls not in SMTP_TLS_MODES:
        raise ConfigError(f"TRACKER_SMTP_TLS must be one of {', '.join(SMTP_TLS_MODES)}, not {smtp_tls!r}.")
    config = {
        "TRACKER_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": _number("MAX_UPLOAD_MB", 25, minimum=1) * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": timedelta(days=_number("SESSION_MAX_DAYS", 14)),  # ends with the session
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, which expires
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "TRACKER_LOGIN_LIMIT_ACCOUNT": _env("LOGIN_LIMIT_ACCOUNT", "5 per 5 minutes"),
        "TRACKER_LOGIN_LIMIT_ADDRESS": _env("LOGIN_LIMIT_ADDRESS", "30 per 5 minutes"),
        # server-side sign-in sessions (tracker/auth/services.py): idle limit without and with "keep me
        # signed in", and the absolute lifetime of any session (the remember cookie's 14 days)
        "TRACKER_SESSION_IDLE_MINUTES": _number("SESSION_IDLE_MINUTES", 720),
        "TRACKER_SESSION_REMEMBER_IDLE_DAYS": _number("SESSION_REMEMBER_IDLE_DAYS", 7),
        "TRACKER_SESSION_MAX_DAYS": _number("SESSION_MAX_DAYS", 14),
        # reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed (tracker/security.py)
        "TRACKER_TRUSTED_PROXIES": _number("TRUSTED_PROXIES", 0),
        "TRACKER_INVITE_DAYS": _number("INVITE_DAYS", 7, minimum=1),
        # longest an accreditor's access may run from the day it is given (invite, member page, CLI)
        "TRACKER_ACCREDITOR_MAX_DAYS": _number("ACCREDITOR_MAX_DAYS", 90, minimum=1),
        "TRACKER_RESET_MINUTES": _number("RESET_MINUTES", 60, minimum=1),
        # sign-in with Google or Microsoft (tracker/auth/oidc.py): only a provider with a client id is
        # offered, and nothing is fetched from one that is not
        **_oidc_settings(),
        # two-factor sign-in (tracker/auth/second_factor.py, step_up.py): how long the step between the
        # password and the second factor may take; how long a confirmation of who someone is lasts before
        # signing off, changing roles, removing members or exporting the register ask again (0: every time)
        "TRACKER_TWO_FACTOR_PENDING_MINUTES": _number("TWO_FACTOR_PENDING_MINUTES", 5, minimum=1),
        "TRACKER_STEP_UP_MINUTES": _number("STEP_UP_MINUTES", 10, minimum=0),
        "TRACKER_SEEDS_DIR": str(ROOT / "seeds"),
        "TRACKER_EVIDENCE_DIR": _env("EVIDENCE_DIR", str(instance_path / "evidence")),
        "TRACKER_MAX_FILE_MB": _number("MAX_FILE_MB", 20, minimum=1),
        # rendered dashboard parts, kept while the school's audit head stands still (tracker/pagecache.py)
        "TRACKER_PAGE_CACHE": _flag("PAGE_CACHE", True),
        # imports of more rows run in the background; one stuck longer is failed (tracker/people/jobs.py)
        "TRACKER_IMPORT_BACKGROUND_ROWS": _number("IMPORT_BACKGROUND_ROWS", 200, minimum=0),
        "TRACKER_IMPORT_TIMEOUT": _number("IMPORT_TIMEOUT", 900, minimum=1),
        # the months a school may choose for each retention rule (tracker/retention/rules.py)
        "TRACKER_RETENTION_LEAVERS_MIN_MONTHS": _number("RETENTION_LEAVERS_MIN_MONTHS", 12, minimum=1),
        "TRACKER_RETENTION_LEAVERS_MAX_MONTHS": _number("RETENTION_LEAVERS_MAX_MONTHS", 120, minimum=1),
        "TRACKER_RETENTION_POLICE_CERTIFICATES_MIN_MONTHS": _number(
            "RETENTION_POLICE_CERTIFICATES_MIN_MONTHS", 1, minimum=0
        ),
        "TRACKER_RETENTION_POLICE_CERTIFICATES_MAX_MONTHS": _number(
            "RETENTION_POLICE_CERTIFICATES_MAX_MONTHS", 24, minimum=0
        ),
        "TRACKER_RETENTION_PROGRAMME_MIN_MONTHS": _number("RETENTION_PROGRAMME_MIN_MONTHS", 36, minimum=1),
        "TRACKER_RETENTION_PROGRAMME_MAX_MONTHS": _number("RETENTION_PROGRAMME_MAX_MONTHS", 180, minimum=1),
        # how long a SQLite writer waits for another one before giving up with a 503 (tracker/db.py)
        "TRACKER_SQLITE_BUSY_SECONDS": _number("SQLITE_BUSY_SECONDS", 15.0, float, minimum=0),
        # the audit chain's HMAC key and the earlier keys still used to verify (tracker/audit.py)
        "TRACKER_AUDIT_KEY": audit_key,
        "TRACKER_AUDIT_OLD_KEYS": audit_old_keys,
        # the address every absolute link starts with: e-mail, the invite CLI, calendars (tracker/links.py)
        "TRACKER_BASE_URL": base_url,
        # e-mail (tracker/reminders/mailer.py); no SMTP host: each message is written to TRACKER_MAIL_DIR
        "TRACKER_SMTP_HOST": (_env("SMTP_HOST") or "").strip(),
        "TRACKER_SMTP_PORT": _number("SMTP_PORT", 587, minimum=1),
        "TRACKER_SMTP_USER": _env("SMTP_USER", ""),
        "TRACKER_SMTP_PASSWORD": _env("SMTP_PASSWORD", ""),
        "TRACKER_SMTP_TLS": smtp_tls,
        "TRACKER_SMTP_FROM": _env("SMTP_FROM") or "Safeguarding Tracker <tracker@localhost>",
        "TRACKER_SMTP_TIMEOUT": _number("SMTP_TIMEOUT", 30.0, float, minimum=1),
        "TRACKER_MAIL_DIR": _env("MAIL_DIR") or str(instance_path / "mail"),
        # a message claimed for sending longer ago than this was lost with its sender and is tried again
        "TRACKER_OUTBOX_STALE_SECONDS": _number("OUTBOX_STALE_SECONDS", 900.0, float, minimum=1),
        # the scheduler (tracker/reminders/scheduler.py): started inside `make run`'s process when 1, once per
        # installation thanks to a lock file
        "TRACKER_EMBEDDED_SCHEDULER": _flag("EMBEDDED_SCHEDULER", False),
        "TRACKER_SCHEDULER_LOCK": _env("SCHEDULER_LOCK") or str(instance_path / "scheduler.lock"),
        # PDF reports (tracker/reports/): the render time limit, the size that goes to the background, fonts
        "TRACKER_REPORT_TIMEOUT": _number("REPORT_TIMEOUT", 300, minimum=1),
        "TRACKER_REPORT_BACKGROUND_ROWS": _number("REPORT_BACKGROUND_ROWS", 1500, minimum=0),
        "TRACKER_FONT_DIR": _env("FONT_DIR") or DEFAULT_FONT_DIR,
        # the school's archive (tracker/archive/): where the ZIPs are kept, and for how many days
        "TRACKER_ARCHIVE_DIR": _env("ARCHIVE_DIR") or str(instance_path / "archives"),
        "TRACKER_ARCHIVE_KEEP_DAYS": _number("ARCHIVE_KEEP_DAYS", 7, minimum=1),
        # `make run`'s demo accounts (tracker/devtools/demo.py); empty: generated into instance/demo_password
        "TRACKER_DEMO_PASSWORD": _env("DEMO_PASSWORD", ""),
    }
    config.update(overrides)
    config["TRACKER_AUDIT_KEY"], config["TRACKER_AUDIT_OLD_KEYS"] = audit_key, audit_old_keys
    config["TRACKER_BASE_URL"] = base_url  # checked and without its trailing slash, whoever gave it
    for name in (
        "TRACKER_SESSION_IDLE_MINUTES",
        "TRACKER_SESSION_REMEMBER_IDLE_DAYS",
        "TRACKER_SESSION_MAX_DAYS",
    ):
        if config[name] <= 0:
            raise ConfigError(f"{name} must be a whole number above 0 (every sign-in would end at once).")
    return config


def child_environment(**extra) -> dict:
    """The environment for a program the app runs (pg_dump, pg_restore): this process's, plus `extra`. Here
    because this module is the one place that reads the environment."""
    return {**os.environ, **extra}
