"""Passkey endpoints (options as JSON for static/js/passkeys.js, which sends the answers back): adding and
removing a passkey on the account's two-factor page, answering the sign-in challenge or a step-up with one.

The sign-in endpoints are public (no session is open yet) but work only for the user who passed the first step
(`second_factor.pending_user()`); their attempts are throttled per address and per account like passwords."""

import json

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from ..access import public, signed_in
from ..extensions import limiter
from ..forms_common import Form
from ..transactions import saving
from . import bp, passkeys, recovery_codes, second_factor, step_up, two_factor_views
from .views import safe_next


class PasskeyForm(Form):
    """Only the CSRF token: the passkey is named in the address."""


def _body() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _refused(message, status=400, **extra):
    return jsonify(error=message, **extra), status


def _options_response(options_json: str):
    response = current_app.response_class(options_json, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def _failed(response):
    # Only refused attempts count towards the limit.
    return response.status_code != 200


def _pending_key():
    # the account's sign-in budget, named as the password and code attempts name it
    user = second_factor.pending_user()
    return "account:" + (user.email if user is not None else "unknown")


def _own_key():
    return "account:" + (getattr(current_user, "email", "") or "unknown")


_by_address = limiter.limit(
    lambda: current_app.config["TRACKER_LOGIN_LIMIT_ADDRESS"], methods=["POST"], deduct_when=_failed
)


def _by_account(key_func):
    return limiter.limit(
        lambda: current_app.config["TRACKER_LOGIN_LIMIT_ACCOUNT"],
        methods=["POST"],
        key_func=key_func,
        deduct_when=_failed,
    )


def _me():
    return current_user._get_current_object()


@bp.app_context_processor
def passkey_templates():
    """`passkeys_of(user)` for templates/auth/_passkey_enrol.html (called only where the partial is used)."""
    return {"passkeys_of": passkeys.user_passkeys}


# ---- the account's two-factor page: add and remove -----------------------------------------------------


@bp.route("/account/passkeys/options", methods=["POST"])
@signed_in
def passkey_options():
    with saving(show=False) as tx:
        options = passkeys.registration_options(_me())
    if not tx.ok:
        return _refused(str(tx.error))
    return _options_response(options)


@bp.route("/account/passkeys", methods=["POST"])
@signed_in
def passkey_add():
    """The browser's answer to the registration options, sent as a form by passkeys.js. The first passkey of
    someone without recovery codes comes with ten, shown once (as after setting up an authenticator app)."""
    back = safe_next(request.form.get("next")) or url_for("auth.two_factor")
    name = request.form.get("passkey_name", "")[:200]
    try:
        credential = json.loads(request.form.get("credential") or "null")
    except (ValueError, RecursionError):
        credential = None
    user = _me()
    with saving() as tx:  # a refusal is flashed above the page, which keeps the name typed (the partial)
        name = passkeys.add_passkey(user, name, credential).name
        codes = recovery_codes.generate(user) if not recovery_codes.remaining(user) else None
    if not tx.ok:
        return two_factor_views.two_factor(), 400
    if codes:
        flash(f"Passkey “{name}” added. Keep these recovery codes in case you lose it.", "success")
        return render_template("auth/two_factor_codes.html", codes=codes, next=back, first=False)
    flash(f"Passkey “{name}” added. You can use it the next time you sign in.", "success")
    return redirect(back)


@bp.route("/account/passkeys/<passkey_id>/remove", methods=["POST"])
@signed_in
@step_up.step_up_required("remove-passkey")
def passkey_remove(passkey_id):
    back = safe_next(request.form.get("next")) or url_for("auth.two_factor")
    if not PasskeyForm().validate_on_submit():
        return redirect(back)
    with saving() as tx:
        name = passkeys.remove_passkey(_me(), passkey_id[:64]).name
    if tx.ok:
        flash(f"Passkey “{name}” removed: it no longer signs you in.", "success")
    return redirect(back)


# ---- the sign-in challenge -------------------------------------------------------------------------------


@bp.route("/login/passkey/options", methods=["POST"])
@public
@_by_address
def passkey_sign_in_options():
    user = second_factor.pending_user()
    if user is None:
        return _refused(
            "Your sign-in has expired. Sign in with your password again.", redirect=url_for("auth.login")
        )
    with saving(show=False) as tx:
        options = passkeys.authentication_options(user, "sign-in")
    if not tx.ok:
        return _refused(str(tx.error))
    return _options_response(options)


@bp.route("/login/passkey", methods=["POST"])
@public
@_by_address
@_by_account(_pending_key)
def passkey_sign_in():
    user = second_factor.pending_user()
    if user is None:
        return _refused(
            "Your sign-in has expired. Sign in with your password again.", redirect=url_for("auth.login")
        )
    with saving():  # a refused attempt is kept on record too
        key, message = passkeys.check_assertion(user, _body().get("credential"), "sign-in")
        response = second_factor.second_factor_passed(user, method="passkey") if key else None
    if response is None:
        return _refused(message)
    # The challenge handler's redirect, as JSON for the script (keeping any cookies it set).
    location = response.headers.get("Location") or url_for("picker.index")
    response.status_code = 200
    response.headers.pop("Location", None)
    response.set_data(current_app.json.dumps({"redirect": location}))
    response.mimetype = "application/json"
    return response


# ---- step-up: confirming it's you again ------------------------------------------------------------------


@bp.route("/account/confirm/passkey/options", methods=["POST"])
@signed_in
@_by_address
def passkey_step_up_options():
    with saving(show=False) as tx:
        options = passkeys.authentication_options(_me(), "step-up")
    if not tx.ok:
        return _refused(str(tx.error))
    return _options_response(options)


@bp.route("/account/confirm/passkey", methods=["POST"])
@signed_in
@_by_address
@_by_account(_own_key)
def passkey_step_up():
    data = _body()
    with saving():
        key, message = passkeys.check_assertion(_me(), data.get("credential"), "step-up")
        if key:
            step_up.mark_confirmed("passkey")
    if key is None:
        return _refused(message)
    return jsonify(redirect=safe_next(data.get("next")) or url_for("picker.index"))
