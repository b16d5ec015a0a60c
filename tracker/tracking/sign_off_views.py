"""The sign-off page of a school year: what is still open, and the head's sign-off (a comment, "I have
reviewed what is still open" and, unless they confirmed who they are a few minutes ago (auth/step_up.py), the
code of their second factor or, without one, their password); while the frozen report is made it shows the
job's progress, then who signed off and the signed report. The services are in sign_off.py."""

from flask import current_app, flash, g, redirect, render_template, url_for
from flask_login import current_user
from wtforms import BooleanField, PasswordField, TextAreaField
from wtforms.validators import Length

from ..access import school_roles
from ..auth import step_up
from ..auth.reconfirm import RECONFIRM_FAILED, confirm_identity
from ..extensions import limiter
from ..forms_common import Form, strip
from ..tenancy import HEAD, LEAD
from ..transactions import saving
from . import bp, services
from . import sign_off as signing
from .views import year_or_404


class SignOffForm(Form):
    comment = TextAreaField(
        "Comment for the report (optional)",
        filters=[strip],
        validators=[Length(max=signing.COMMENT_MAX)],
        description="Printed in the signed report's sign-off section, e.g. what is still open and why, and "
        "what the school will do about it. No case details about named children.",
    )
    reviewed = BooleanField("I have reviewed what is still open")
    #: the confirmation: the password, or a code for someone with an authenticator app (`confirmation_kind`);
    #: left out when the head confirmed who they are a few minutes ago (step_up.recently_confirmed)
    password = PasswordField(
        "Your password",
        validators=[Length(max=200)],
        description="Signing off cannot be undone, so confirm that it is you.",
    )

    def __init__(self, *args, kind="password", **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if kind == "code":
            self.password.label.text = "Code from your authenticator app"
            self.password.description = (
                "Signing off cannot be undone, so confirm that it is you: the 6-digit code your app shows "
                "now, or one of your recovery codes."
            )
            self.password.render_kw = {"autocomplete": "one-time-code", "spellcheck": "false"}
        elif kind == "passkey":
            self.password.label.text = "A recovery code"
            self.password.description = (
                "Signing off cannot be undone, so confirm that it is you: with your passkey (the link "
                "below), or one of your recovery codes here."
            )
            self.password.render_kw = {"autocomplete": "off", "spellcheck": "false"}
        else:
            self.password.render_kw = {"autocomplete": "current-password"}

    @property
    def missing_message(self):
        if self.kind == "password":
            return "Enter your password to confirm that it is you signing off."
        return "Enter the code to confirm that it is you signing off."


def _form():
    return SignOffForm(kind=step_up.confirmation_kind(current_user))


def _page(year, form, status=200):
    lines = signing.open_work(g.school, year) if year.sign_off_state == signing.OPEN else []
    return render_template(
        "tracking/sign_off.html",
        year=year,
        form=form,
        lines=lines,
        counts=signing.open_counts(lines),
        states=signing,
        confirmed=step_up.recently_confirmed(),
    ), status


@bp.route("/years/<uuid:year_id>/signoff")
@school_roles(LEAD, HEAD)
def sign_off_page(year_id):
    year = year_or_404(year_id)
    if year.sign_off_state == signing.SIGNING:
        with saving():
            signing.give_up_if_stalled(g.school, year, int(current_app.config["TRACKER_REPORT_TIMEOUT"]))
    return _page(year, _form())


def _account_key():
    return "account:" + (current_user.email or "").strip().lower()[:254]


def _wrong_password(_response):
    # only wrong passwords (or codes) count towards the limit, in the same per-account budget as sign-in
    return bool(g.get("reconfirm_failed"))


def _confirm(form) -> bool:
    """Check the confirmation typed in (a wrong one is recorded); a head who confirmed who they are a few
    minutes ago need not type one, but one typed is checked all the same."""
    value = form.password.data or ""
    if not value:
        if step_up.recently_confirmed():
            return True
        form.password.errors = [form.missing_message]
        return False
    with saving():  # a wrong password or code is kept on record, and nothing else is saved
        if form.kind == "password":
            confirmed = confirm_identity(current_user, value, purpose="year.sign_off", school=g.school)
            if confirmed:
                step_up.mark_confirmed("password")
        else:
            confirmed = bool(
                step_up.confirm_inline(current_user, value, purpose="year.sign_off", school=g.school)
            )
    if not confirmed:
        g.reconfirm_failed = True
        form.password.errors = [
            RECONFIRM_FAILED if form.kind == "password" else "That code does not match, or was used already."
        ]
    return confirmed


@bp.route("/years/<uuid:year_id>/signoff", methods=["POST"])
@school_roles(HEAD)
@step_up.step_up_required("year.sign_off", inline=True)
@limiter.limit(
    lambda: current_app.config["TRACKER_LOGIN_LIMIT_ACCOUNT"],
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_wrong_password,
)
def sign_off(year_id):
    year = year_or_404(year_id)
    form = _form()
    if not form.validate_on_submit():
        return _page(year, form, 400)
    # a year already signed off (or being signed) needs no confirmation: the service says so, nothing recorded
    if year.sign_off_state == signing.OPEN and not _confirm(form):
        return _page(year, form, 400)
    with saving(form, show=False) as tx:
        for start in services.sign_off(
            g.school, year, current_user, comment=form.comment.data or "", reviewed=form.reviewed.data
        ):
            tx.after_commit(start)
    if tx.error is not None:
        if tx.error.field in ("reviewed", "comment"):
            form[tx.error.field].errors = [str(tx.error)]
            return _page(year, form, 400)
        flash(str(tx.error), "error")
        return redirect(url_for(".sign_off_page", year_id=year.id))
    flash(
        f"You signed off {year.label}. Its report is being frozen: this page shows when it is stored.",
        "success",
    )
    return redirect(url_for(".sign_off_page", year_id=year.id))
