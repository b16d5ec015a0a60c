"""Settings read from TRACKER_* environment variables."""
import os
import secrets
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name, default=None):
    return os.environ.get(f"TRACKER_{name}", default)


def _instance_secret(instance_path: Path) -> str:
    """Return the embedded default's secret key, generated once and kept in instance/."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


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
        "REMEMBER_COOKIE_DURATION": timedelta(days=14),
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "WTF_CSRF_TIME_LIMIT": None,  # tied to the session instead, which expires
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URL", "memory://"),
        "RATELIMIT_HEADERS_ENABLED": True,
        "TRACKER_LOGIN_LIMIT_ACCOUNT": _env("LOGIN_LIMIT_ACCOUNT", "5 per 5 minutes"),
        "TRACKER_LOGIN_LIMIT_ADDRESS": _env("LOGIN_LIMIT_ADDRESS", "30 per 5 minutes"),
        "TRACKER_INVITE_DAYS": int(_env("INVITE_DAYS", "7")),
        "TRACKER_RESET_MINUTES": int(_env("RESET_MINUTES", "60")),
        "TRACKER_SEEDS_DIR": str(ROOT / "seeds"),
        "TRACKER_EVIDENCE_DIR": _env("EVIDENCE_DIR", str(instance_path / "evidence")),
        "TRACKER_MAX_FILE_MB": int(_env("MAX_FILE_MB", "20")),
        # rendered dashboard parts, kept while the school's audit head stands still (tracker/pagecache.py)
        "TRACKER_PAGE_CACHE": _env("PAGE_CACHE", "1") not in ("0", "false", "no"),
    }
    config.update(overrides)
    return config
