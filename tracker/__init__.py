"""Safeguarding tracker: create_app wires extensions, blueprints, error handlers and the CLI."""

import logging
from pathlib import Path

from flask import Flask

from . import extensions as ext  # not `db`: that name is the tracker.db module
from .config import ROOT, build_config
from .db import include_object


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` overrides settings read from the environment (tests use it)."""
    instance_path = Path((config or {}).get("INSTANCE_PATH") or ROOT / "instance")
    app = Flask(
        __name__,
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(build_config(instance_path, config))
    if not app.logger.handlers or app.logger.level == logging.NOTSET:
        app.logger.setLevel(logging.INFO)

    ext.db.init_app(app)
    ext.migrate.init_app(
        app,
        ext.db,
        directory=str(ROOT / "migrations"),
        compare_type=True,
        render_as_batch=True,
        include_object=include_object,
    )
    ext.csrf.init_app(app)
    ext.limiter.init_app(app)
    ext.login_manager.init_app(app)
    _configure_login()

    # The factory imports every feature here, not at the top of this file: every module of the package runs
    # this file first, and `import tracker.db` must not load the whole app. Importing a feature also connects
    # its signal receivers (tracker/signals.py), e.g. the anchor e-mail after the digests.
    from . import (
        anchors,  # noqa: F401
        models,  # noqa: F401  (every model registered before migrations or queries)
    )
    from .admin import bp as admin_bp
    from .archive import bp as archive_bp
    from .auth import bp as auth_bp
    from .errors import register_error_handlers
    from .evidence.views import bp as evidence_bp
    from .frameworks import bp as frameworks_bp
    from .groups import admin_bp as group_admin_bp
    from .groups import bp as groups_bp
    from .health import bp as health_bp
    from .library import bp as library_bp
    from .library_files import bp as library_files_bp
    from .people import bp as people_bp
    from .policies import bp as policies_bp
    from .reminders import init_app as init_reminders
    from .reports import bp as reports_bp
    from .retention import bp as retention_bp
    from .review import bp as review_bp
    from .schools import bp as schools_bp
    from .schools import picker_bp
    from .security import register_security
    from .templating import register_templating
    from .tracking import bp as tracking_bp
    from .training import bp as training_bp

    for blueprint in (
        auth_bp,
        picker_bp,
        schools_bp,
        tracking_bp,
        evidence_bp,
        people_bp,
        training_bp,
        policies_bp,
        library_bp,
        library_files_bp,
        frameworks_bp,
        reports_bp,
        review_bp,
        retention_bp,
        admin_bp,
        archive_bp,
        groups_bp,
        group_admin_bp,
        health_bp,
    ):
        app.register_blueprint(blueprint)
    init_reminders(app)
    register_error_handlers(app)
    register_security(app)
    register_templating(app)

    from .cli import register_cli

    register_cli(app)
    from .reminders.scheduler import maybe_start_embedded

    maybe_start_embedded(app)  # `make run` only: refused in production, under TESTING and without the env var
    return app


def _configure_login():
    from .auth.services import load_session_user

    login_manager = ext.login_manager
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are revocable rows; IP changes on phones are normal
    login_manager.user_loader(load_session_user)
