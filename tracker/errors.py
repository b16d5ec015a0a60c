"""Error pages: every failure gets a clear message, the right status, and a rolled-back transaction.

A database that cannot be reached (or a SQLite lock held too long) is a 503 whose message says what happened
to the request: a page that could not be loaded, nothing saved, or a change that may or may not be saved."""

from flask import g, render_template, request
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .db import RETRY_IMMEDIATE, SAFE_METHODS, RetryBusyReads, commit_sent, db, sqlite_busy
from .extensions import login_manager

MESSAGES = {
    400: (
        "The request could not be understood",
        "Something in what was sent is not valid. Go back, check the form and try again.",
    ),
    403: (
        "You cannot do that here",
        "Your role in this school does not allow this. Ask your safeguarding lead if you need it.",
    ),
    404: ("Page not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "What you sent is larger than this installation accepts."),
    429: ("Too many attempts", "Wait a few minutes and try again."),
    500: (
        "Something went wrong",
        "The error has been logged. Nothing was half-saved: try again in a moment.",
    ),
    503: (
        "Temporarily unavailable",
        "The database is not reachable right now. Nothing was saved; try again in a minute.",
    ),
}
#: the 503 message of a read (GET): nothing was meant to be saved
NOT_LOADED = (
    "The database is not reachable right now, so this page could not be loaded. Try again in a minute."
)
#: the 503 message of a change whose COMMIT was sent but never confirmed
MAYBE_SAVED = (
    "The database is not reachable right now. It stopped answering while your change was being "
    "saved, so it may or may not have been saved: in a minute, reload the page to check before you "
    "send it again."
)
#: the 503 message of a change that waited too long for other people's changes (SQLite's lock)
BUSY = "The database is busy with other people's changes right now. Nothing was saved; try again in a minute."
#: seconds a client (or a proxy) is asked to wait after a 503
RETRY_AFTER = 30


def database_unreachable(exc) -> bool:
    """Whether a database error means the server cannot be reached (down, restarting, connection cut), rather
    than a fault in a statement. SQLAlchemy wraps the driver's OperationalError (psycopg, sqlite3) in its own,
    and marks any other error it recognised as a lost connection with `connection_invalidated`."""
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and exc.connection_invalidated)


def unreachable_message(exc=None) -> str:
    """What the 503 page tells the user: only a change that never reached COMMIT can be said to be unsaved."""
    if request.method in SAFE_METHODS:
        return NOT_LOADED
    if commit_sent():
        return MAYBE_SAVED
    return BUSY if exc is not None and sqlite_busy(exc) else MESSAGES[503][1]


def _render(status, detail=None):
    title, message = MESSAGES.get(status, (f"Error {status}", ""))
    if request.accept_mimetypes.best == "application/json":
        return {"error": title, "detail": detail or message}, status
    return render_template(
        "errors/error.html", status=status, title=title, message=message, detail=detail
    ), status


def _rollback(app):
    """Roll the session back; with the database gone the rollback itself can fail, which must not turn the
    answer into a bare 500."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001  the connection is already gone: there is nothing left to roll back
        app.logger.warning(
            "Rollback failed after a database error on %s %s", request.method, request.path, exc_info=True
        )


def _render_unreachable(exc=None):
    """The 503 answer, built without touching the database: the signed-in user, the school and the membership
    were loaded from it and expired by the rollback, so the page is drawn as for a visitor."""
    message = unreachable_message(exc)
    g._login_user = (
        login_manager.anonymous_user()
    )  # current_user for the template and the after-request hooks
    g.school = g.membership = None
    headers = {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}
    try:
        body, status = _render(503, message)
    except Exception:  # noqa: BLE001  the page must not fail for a reason of its own
        title = MESSAGES[503][0]
        body, status = (
            (
                f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
                f"<p>{escape(message)}</p>"
            ),
            503,
        )
    return body, status, headers


def register_error_handlers(app):
    app.wsgi_app = RetryBusyReads(app.wsgi_app)  # a read refused by SQLite's lock is run once more, waiting

    @app.teardown_appcontext
    def end_session(exc):
        """End the request's session before Flask-SQLAlchemy's own teardown does (teardowns run last
        registered first). Ending it rolls back on the connection, which fails if the server cut the
        connection after the request's last statement (a restart): the answer is already made and must go out,
        not become the WSGI server's bare 500."""
        try:
            db.session.remove()
        except DBAPIError as error:
            if not database_unreachable(error):
                raise
            db.session.registry.clear()  # the connection is already invalidated and back in the pool
            app.logger.warning("Database connection lost while ending a request: %s", error.orig or error)

    @app.errorhandler(DBAPIError)
    def database_error(exc):
        if not database_unreachable(exc):
            return server_error(exc)
        _rollback(app)
        if sqlite_busy(exc) and request.method in SAFE_METHODS and RETRY_IMMEDIATE not in request.environ:
            request.environ[RETRY_IMMEDIATE] = "asked"  # RetryBusyReads runs it again; this answer is dropped
            app.logger.info(
                "SQLite was busy on %s %s: running it again, waiting for the lock",
                request.method,
                request.path,
            )
            return _render_unreachable(exc)
        if exc.connection_invalidated:
            app.logger.warning(
                "Database connection lost on %s %s: %s", request.method, request.path, exc.orig or exc
            )
        else:  # also a locked SQLite file, a cancelled statement, a missing table: keep the traceback
            app.logger.error("Database unreachable on %s %s", request.method, request.path, exc_info=exc)
        return _render_unreachable(exc)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        db.session.rollback()
        return _render(
            400, "The form had expired or was sent from somewhere else. Reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(exc):
        db.session.rollback()
        detail = (
            exc.description
            if exc.code == 400 and exc.description and "browser (or proxy)" not in exc.description
            else None
        )
        if exc.code == 429:
            detail = "Too many attempts. For your account's safety, wait a few minutes before trying again."
        response = _render(exc.code or 500, detail)
        if exc.code == 405 and hasattr(exc, "valid_methods") and exc.valid_methods:
            body, status = response
            return body, status, {"Allow": ", ".join(exc.valid_methods)}
        return response

    @app.errorhandler(InternalServerError)
    @app.errorhandler(Exception)
    def server_error(exc):
        if isinstance(exc, HTTPException) and not isinstance(exc, InternalServerError):
            return http_error(exc)
        if isinstance(exc, InternalServerError) and database_unreachable(exc.original_exception):
            return database_error(exc.original_exception)  # raised where no handler sees it (after_request)
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500)
