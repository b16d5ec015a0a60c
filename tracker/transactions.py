"""The one transaction boundary of a view: `DomainError` (the base of every feature's refusal) and `saving()`,
which commits once on success, rolls back on any error, shows a domain error's message and runs after-commit
work only once the commit went through."""

from contextlib import contextmanager

from flask import current_app, flash

from .db import db


class DomainError(ValueError):
    """A change a service refuses; the message is for the user, shown beside the form field `field` when the
    view has a form with that field (otherwise as a flash message)."""

    field = None

    def __init__(self, message="", field=None):
        super().__init__(message)
        if field is not None:
            self.field = field


class Transaction:
    """What a `saving()` block did: `ok` once committed, `error` the domain error that rolled it back."""

    def __init__(self):
        self.ok = False
        self.error = None
        self._after_commit = []
        self._after_rollback = []

    def after_commit(self, fn, *args, **kwargs):
        """Run `fn` once the commit succeeded (start a job, delete a file, send a link); never on failure."""
        self._after_commit.append((fn, args, kwargs))

    def after_rollback(self, fn, *args, **kwargs):
        """Run `fn` when the block fails or the commit does (discard files written for rows that were not
        saved); its own failure never hides the original error."""
        self._after_rollback.append((fn, args, kwargs))

    def _run_rollback_work(self):
        for fn, args, kwargs in self._after_rollback:
            try:
                fn(*args, **kwargs)
            except Exception:  # clean-up must not replace the error being handled
                current_app.logger.warning("Clean-up after a rollback failed", exc_info=True)


def show_error(exc, form=None, field=None, prefix=""):
    """Show a domain error's message beside its field (`exc.field`, else `field`) when `form` has it, else
    as a flash message (with `prefix`, e.g. the item's title)."""
    name = exc.field if exc.field and form is not None and exc.field in form else field
    if form is not None and name and name in form:
        form[name].errors = list(form[name].errors) + [str(exc)]
    else:
        flash(f"{prefix}{exc}", "error")


@contextmanager
def saving(form=None, field=None, prefix="", show=True):
    """The unit of work of a view that writes::

        with saving(form, "email") as tx:
            person = services.add_person(...)
        if tx.ok:
            flash(...); return redirect(...)

    On success the session is committed once, then the `after_commit` work runs. A `DomainError` rolls back
    everything the block did (nothing half-saved, no audit event), runs the `after_rollback` work, shows the
    message (beside `exc.field` or `field` of `form`, else flashed; `show=False` leaves that to the view via
    `tx.error`) and is not raised further. Any other error (an edit conflict, a lost database) rolls back,
    runs the `after_rollback` work and propagates to the view or the app's error pages (409, 503); so does a
    failed commit, whose 503 page knows the COMMIT was sent (`db.commit_sent`)."""
    tx = Transaction()
    try:
        yield tx
        db.session.commit()
    except DomainError as exc:
        db.session.rollback()
        tx._run_rollback_work()
        tx.error = exc
        if show:
            show_error(exc, form, field, prefix)
        return
    except BaseException:
        try:
            db.session.rollback()
        except Exception:  # the connection is gone: the original error is the one to report
            current_app.logger.warning("Rollback failed", exc_info=True)
        tx._run_rollback_work()
        raise
    tx.ok = True
    for fn, args, kwargs in tx._after_commit:
        fn(*args, **kwargs)
