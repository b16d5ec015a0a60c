"""Error pages: every failure gets a clear message, the right status, and a rolled-back transaction."""
from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .db import db

MESSAGES = {
    400: ("The request could not be understood", "Something in what was sent is not valid. Go back, check the form and try again."),
    403: ("You cannot do that here", "Your role in this school does not allow this. Ask your safeguarding lead if you need it."),
    404: ("Page not found", "There is nothing here, or you do not have access to it."),
    405: ("Not allowed", "This page cannot be used that way."),
    413: ("Too large", "What you sent is larger than this installation accepts."),
    429: ("Too many attempts", "Wait a few minutes and try again."),
    500: ("Something went wrong", "The error has been logged. Nothing was half-saved: try again in a moment."),
}


def _render(status, detail=None):
    title, message = MESSAGES.get(status, (f"Error {status}", ""))
    if request.accept_mimetypes.best == "application/json":
        return {"error": title, "detail": detail or message}, status
    return render_template("errors/error.html", status=status, title=title, message=message,
                           detail=detail), status


def register_error_handlers(app):
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        db.session.rollback()
        return _render(400, "The form had expired or was sent from somewhere else. Reload the page and try again.")

    @app.errorhandler(HTTPException)
    def http_error(exc):
        db.session.rollback()
        detail = exc.description if exc.code == 400 and exc.description and "browser (or proxy)" not in exc.description else None
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
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return _render(500)
