"""Sign-in pages. Views parse forms and call services inside `saving()`, the one transaction boundary."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import audit
from ..access import public, signed_in
from ..extensions import limiter
from ..passwords import check_password
from ..transactions import saving
from . import bp
from .forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, ProfileForm, ResetPasswordForm
from .second_factor import finish_primary_sign_in
from .services import (
    authenticate,
    find_user,
    queue_reset_mail,
    set_password,
    sign_in,
    sign_out,
    user_for_reset_token,
)


def safe_next(target: str | None) -> str | None:
    """Return `target` only when it is a path on this site; anything else (other hosts, schemes) is
    dropped."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in target):
        return None
    return target


def _known_words(user):
    """What a guesser knows about this person: e-mail, name and the names of their schools (for the password
    strength check, see passwords.StrongPassword)."""
    return [user.email, user.name, *(m.school.name for m in user.memberships)]


def _account_key():
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


def _failed(response):
    # Only failed attempts count towards the limit; a successful sign-in redirects.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(
    lambda: current_app.config["TRACKER_LOGIN_LIMIT_ADDRESS"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["TRACKER_LOGIN_LIMIT_ACCOUNT"],
    methods=["POST"],
    key_func=_account_key,
    deduct_when=_failed,
)
def login():
    next_url = safe_next(request.values.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("picker.index"))
    form = LoginForm()
    if form.validate_on_submit():
        with saving():  # a failed attempt is kept on record too
            user = authenticate(form.email.data, form.password.data)
            if user is not None:
                response = finish_primary_sign_in(
                    user, remember=form.remember.data, via="password", next_url=next_url
                )
        if user is not None:
            return response
        form.password.errors.append("That e-mail address and password do not match an account.")
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form, next=next_url), status


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    with saving():
        sign_out(current_user._get_current_object())
    flash("You are signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        user = find_user(form.email.data)
        if user is not None and user.active and user.password_hash:
            with saving():  # the e-mail goes through the outbox (tracker/mail.py); the link is never logged
                queue_reset_mail(user)
        # The same answer either way, so the form does not reveal who has an account.
        flash(
            "If that address has an account, a link to choose a new password is on its way. "
            f"It works once, within {current_app.config['TRACKER_RESET_MINUTES']} minutes.",
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form), 400 if form.errors else 200


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token):
    user = user_for_reset_token(token)
    if user is None:
        return render_template("auth/link_invalid.html", what="password reset link"), 404
    form = ResetPasswordForm()
    form.password_user_inputs = _known_words(user)
    if form.validate_on_submit():
        with saving():
            set_password(user, form.password.data, reason="reset")
        flash(
            "Your password has been changed and every other session signed out. Sign in with the new one.",
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form), 400 if form.errors else 200


@bp.route("/account", methods=["GET", "POST"])
@signed_in
def account():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        with saving():
            before = {"name": current_user.name}
            current_user.name = form.name.data
            if before["name"] != current_user.name:
                audit.record(
                    "auth.profile_changed",
                    subject=current_user,
                    before=before,
                    after={"name": current_user.name},
                )
        flash("Saved.", "success")
        return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html", form=form, password_form=ChangePasswordForm()
    ), 400 if form.errors else 200


@bp.route("/account/password", methods=["POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    user = current_user._get_current_object()
    form.password_user_inputs = _known_words(user)
    if form.validate_on_submit():
        if not check_password(user, form.current.data):
            form.current.errors.append("That is not your current password.")
        else:
            with saving():
                set_password(user, form.password.data, reason="changed")
                sign_in(user)  # this browser stays signed in with a fresh session; all others end
            flash("Password changed. Every other device has been signed out.", "success")
            return redirect(url_for("auth.account"))
    return render_template(
        "auth/account.html", form=ProfileForm(formdata=None, obj=user), password_form=form
    ), 400
