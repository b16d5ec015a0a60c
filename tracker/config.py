"""Settings read from TRACKER_* environment variables."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name, default=None):
    return os.environ.get(f"TRACKER_{name}", default)


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
            raise ConfigError("TRACKER_AUDIT_KEY must be set when TRACKER_ENV=production (keep it outside "
                              "the database; python -c 'import secrets; print(secrets.token_hex(32))' makes "
                              "one).")
        key = _instance_secret(instance_path, "audit_key")
    old = overrides.get("TRACKER_AUDIT_OLD_KEYS", _env("AUDIT_OLD_KEYS", ""))
    old = [k.strip() for k in (old.split(",") if isinstance(old, str) else old) if k.strip()]
    for candidate in [key, *old]:
        if len(candidate) < MIN_AUDIT_KEY:
            raise ConfigError(f"Audit keys (TRACKER_AUDIT_KEY, TRACKER_AUDIT_OLD_KEYS) must be at least "
                              f"{MIN_AUDIT_KEY} characters long.")
    return key, [k for k in old if k != key]


class ConfigError(RuntimeError):
    """The settings cannot make a safe app."""


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
    config = {
        "TRACKER_ENV": env,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "MAX_CONTENT_LENGTH": int(_env("MAX_UPLOAD_MB", "25")) * 1024 * 1024,
        "MAX_FORM_MEMORY_SIZE": 1024 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_DURATION": timedelta(days=int(_env("SESSION_MAX_DAYS", "14"))),  # ends with the session
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, which expires
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "TRACKER_LOGIN_LIMIT_ACCOUNT": _env("LOGIN_LIMIT_ACCOUNT", "5 per 5 minutes"),
        "TRACKER_LOGIN_LIMIT_ADDRESS": _env("LOGIN_LIMIT_ADDRESS", "30 per 5 minutes"),
        # server-side sign-in sessions (tracker/auth/services.py): idle limit without and with "keep me
        # signed in", and the absolute lifetime of any session (the remember cookie's 14 days)
        "TRACKER_SESSION_IDLE_MINUTES": int(_env("SESSION_IDLE_MINUTES", "720")),
        "TRACKER_SESSION_REMEMBER_IDLE_DAYS": int(_env("SESSION_REMEMBER_IDLE_DAYS", "7")),
        "TRACKER_SESSION_MAX_DAYS": int(_env("SESSION_MAX_DAYS", "14")),
        # reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed (tracker/security.py)
        "TRACKER_TRUSTED_PROXIES": int(_env("TRUSTED_PROXIES", "0")),
        "TRACKER_INVITE_DAYS": int(_env("INVITE_DAYS", "7")),
        # longest an accreditor's access may run from the day it is given (invite, member page, CLI)
        "TRACKER_ACCREDITOR_MAX_DAYS": int(_env("ACCREDITOR_MAX_DAYS", "90")),
        "TRACKER_RESET_MINUTES": int(_env("RESET_MINUTES", "60")),
        "TRACKER_SEEDS_DIR": str(ROOT / "seeds"),
        "TRACKER_EVIDENCE_DIR": _env("EVIDENCE_DIR", str(instance_path / "evidence")),
        "TRACKER_MAX_FILE_MB": int(_env("MAX_FILE_MB", "20")),
        # rendered dashboard parts, kept while the school's audit head stands still (tracker/pagecache.py)
        "TRACKER_PAGE_CACHE": _env("PAGE_CACHE", "1") not in ("0", "false", "no"),
        # imports of more rows run in the background; one stuck longer is failed (tracker/people/jobs.py)
        "TRACKER_IMPORT_BACKGROUND_ROWS": int(_env("IMPORT_BACKGROUND_ROWS", "200")),
        "TRACKER_IMPORT_TIMEOUT": int(_env("IMPORT_TIMEOUT", "900")),
        # how long a SQLite writer waits for another one before giving up with a 503 (tracker/db.py)
        "TRACKER_SQLITE_BUSY_SECONDS": float(_env("SQLITE_BUSY_SECONDS", "15")),
        # the audit chain's HMAC key and the earlier keys still used to verify (tracker/audit.py)
        "TRACKER_AUDIT_KEY": audit_key,
        "TRACKER_AUDIT_OLD_KEYS": audit_old_keys,
    }
    config.update(overrides)
    config["TRACKER_AUDIT_KEY"], config["TRACKER_AUDIT_OLD_KEYS"] = audit_key, audit_old_keys
    for name in ("TRACKER_SESSION_IDLE_MINUTES", "TRACKER_SESSION_REMEMBER_IDLE_DAYS", "TRACKER_SESSION_MAX_DAYS"):
        if config[name] <= 0:
            raise ConfigError(f"{name} must be a whole number above 0 (every sign-in would end at once).")
    return config
