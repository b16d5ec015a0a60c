"""Two-factor pages: the account's "Two-factor sign-in" page, setting up an authenticator app (QR code drawn
here, the key as text), recovery codes, the challenge after the password, the step-up confirmation, and the
gate that keeps a member who must enrol off their school's pages. Views commit through `saving()`."""

from flask import current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from .. import audit
from ..access import public, signed_in
from ..extensions import limiter
from ..passwords import check_password
from ..tenancy import TWO_FACTOR_ROLES
from ..transactions import DomainError, saving
from . import bp, recovery_codes, step_up, totp
from .second_factor import enrolled_methods, must_enrol, pending_user, requiring_schools, second_factor_passed
from .two_factor_forms import AppCodeForm, ConfirmForm, RecoveryCodeForm
from .views import safe_next

SETUP_KEY = "totp_setup"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class TwoFactorError(DomainError):
    """A two-factor change that is refused; the message says why."""


# --- the gate ---------------------------------------------------------------------------------------------


@bp.before_app_request
def two_factor_gate():
    """A lead, head, HR member or accreditor of a school that requires two-factor, who has no second factor
    yet, is sent to enrolment from every page of that school (a form sent is refused). Runs after the
    school was loaded from the URL (tenancy.load_school: url_value_preprocessor)."""
    school, membership = g.get("school"), g.get("membership")
    if school is None or membership is None or not getattr(school, "require_two_factor", False):
        return None
    if getattr(membership, "role", None) not in TWO_FACTOR_ROLES or not current_user.is_authenticated:
        return None
    if enrolled_methods(current_user):
        return None
    if request.method not in SAFE_METHODS:
        return render_template("auth/two_factor_required.html", school=school), 403
    flash(
        f"{school.name} asks you to sign in with a second factor. Set it up here; the school's pages open "
        "once it is done.",
        "info",
    )
    return redirect(url_for("auth.two_factor_app", next=request.full_path.rstrip("?")))


# --- rate limits: the sign-in budget of the account ----------------------------------------------------


def _pending_key():
    user = pending_user()
    return "account:" + (user.email if user else "unknown")


def _current_key():
    return "account:" + (current_user.email or "").strip().lower()[:254]


def _failed(response):
    return bool(g.get("second_factor_failed"))


def _account_limit():
    return current_app.config["TRACKER_LOGIN_LIMIT_ACCOUNT"]


def _address_limit():
    return current_app.config["TRACKER_LOGIN_LIMIT_ADDRESS"]


def _record_failure(user, method, *, purpose):
    g.second_factor_failed = True
    audit.record(
        "auth.second_factor_failed",
        actor=user,
        actor_email=user.email[:254],
        subject=user,
        after={"method": method, "purpose": purpose},
    )


# --- the account's two-factor page -------------------------------------------------------------------------


def _status(user):
    return {
        "methods": enrolled_methods(user),
        "has_totp": totp.has_totp(user),
        "codes_left": recovery_codes.remaining(user),
        "required_by": requiring_schools(user),
    }


@bp.route("/account/two-factor")
@signed_in
def two_factor():
    user = current_user._get_current_object()
    return render_template(
        "auth/two_factor.html",
        off_form=ConfirmForm(kind="app-off"),
        **_status(user),
    )


@bp.route("/account/two-factor/app", methods=["GET", "POST"])
@signed_in
def two_factor_app():
    """Set up (or replace) the authenticator app: scan, type the code it shows, keep the recovery codes."""
    user = current_user._get_current_object()
    next_url = safe_next(request.values.get("next"))
    if totp.has_totp(user) and not step_up.recently_confirmed():
        # replacing the app someone set up before asks who they are first (a borrowed session must not)
        return redirect(url_for(".confirm", next=request.full_path.rstrip("?")))
    form = AppCodeForm()
    secret = session.get(SETUP_KEY)
    if request.method == "GET" or not secret:
        secret = session[SETUP_KEY] = totp.new_secret()
        if request.method == "POST":
            form.validate()
            form.code.errors = ["The set-up took too long. Scan the new QR code below and enter its code."]
            return _app_page(user, secret, form, next_url, 400)
    if request.method == "POST" and form.validate_on_submit():
        with saving() as tx:
            if not totp.enrol(user, secret, form.code.data):
                raise TwoFactorError(
                    "That code does not match. Check the time on your phone is right, and enter the code "
                    "the app shows now.",
                    field="code",
                )
            codes = recovery_codes.generate(user)
        if tx.ok:
            session.pop(SETUP_KEY, None)
            return render_template("auth/two_factor_codes.html", codes=codes, next=next_url, first=True)
        form.code.errors = [str(tx.error)]
    return _app_page(user, secret, form, next_url, 400 if request.method == "POST" else 200)


def _app_page(user, secret, form, next_url, status):
    uri = totp.provisioning_uri(user, secret)
    return render_template(
        "auth/two_factor_app.html",
        form=form,
        qr=totp.qr_svg(uri),
        secret=totp.grouped(secret),
        next=next_url,
        must=must_enrol(user),
        replacing=totp.has_totp(user),
    ), status


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@signed_in
@step_up.step_up_required("recovery-codes")
def new_recovery_codes():
    user = current_user._get_current_object()
    if not enrolled_methods(user):
        flash("Set up an authenticator app or a passkey first: recovery codes stand in for one.", "error")
        return redirect(url_for(".two_factor"))
    with saving() as tx:
        codes = recovery_codes.generate(user)
    if not tx.ok:
        return redirect(url_for(".two_factor"))
    return render_template("auth/two_factor_codes.html", codes=codes, next=None, first=False)


@bp.route("/account/two-factor/app/off", methods=["POST"])
@signed_in
@limiter.limit(_account_limit, key_func=_current_key, deduct_when=_failed)
def two_factor_app_off():
    """Turn the authenticator app off: with a current code (or the password), and never the last method of
    someone whose school requires two-factor."""
    user = current_user._get_current_object()
    form = ConfirmForm(kind="app-off")
    if not totp.has_totp(user):
        flash("You have no authenticator app set up.", "info")
        return redirect(url_for(".two_factor"))
    if enrolled_methods(user) == ["totp"] and requiring_schools(user):
        names = ", ".join(s.name for s in requiring_schools(user))
        form.secret.errors = [
            f"{names} requires two-factor sign-in, and the app is your only second factor. Add a passkey "
            "first, or set up the app again on a new phone instead."
        ]
        return _two_factor_page(user, form, 400)
    if form.validate_on_submit():
        with saving():
            ok = totp.verify(user, form.secret.data) or check_password(user, form.secret.data)
            if ok:
                totp.disable(user)
                if not enrolled_methods(user):
                    recovery_codes.remove(user)
            else:
                _record_failure(user, "totp", purpose="totp.disable")
        if ok:
            flash("The authenticator app is turned off: signing in asks for your password only.", "success")
            return redirect(url_for(".two_factor"))
        form.secret.errors = ["That is not a current code from your app, nor your password."]
    return _two_factor_page(user, form, 400)


def _two_factor_page(user, form, status):
    return render_template("auth/two_factor.html", off_form=form, **_status(user)), status


# --- the challenge after the password ----------------------------------------------------------------------


def _expired():
    flash("Your sign-in took too long, or has already finished. Sign in again.", "error")
    return redirect(url_for(".login"))


@bp.route("/login/two-factor", methods=["GET", "POST"])
@public
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_account_limit, methods=["POST"], key_func=_pending_key, deduct_when=_failed)
def two_factor_challenge():
    user = pending_user()
    if user is None:
        return _expired()
    has_app = totp.has_totp(user)
    form = AppCodeForm()
    if has_app and form.validate_on_submit():
        with saving():
            ok = totp.verify(user, form.code.data)
            if ok:
                response = second_factor_passed(user, method="totp")
            else:
                _record_failure(user, "totp", purpose="sign-in")
        if ok:
            return response
        form.code.errors = [
            "That code does not match, or was used already. Enter the code your app shows now."
        ]
    status = 400 if form.errors else 200
    return render_template(
        "auth/two_factor_challenge.html", form=form, has_app=has_app, passkey_purpose="sign-in", user=user
    ), status


@bp.route("/login/recovery-code", methods=["GET", "POST"])
@public
@limiter.limit(_address_limit, methods=["POST"], deduct_when=_failed)
@limiter.limit(_account_limit, methods=["POST"], key_func=_pending_key, deduct_when=_failed)
def recovery_code_challenge():
    user = pending_user()
    if user is None:
        return _expired()
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        with saving():
            ok = recovery_codes.use(user, form.code.data)
            if ok:
                response = second_factor_passed(user, method="recovery-code")
                left = recovery_codes.remaining(user)
            else:
                _record_failure(user, "recovery-code", purpose="sign-in")
        if ok:
            flash(
                f"You signed in with a recovery code; {left} left. Each works once: if your phone or key is "
                "lost, set up a new one and make new codes under Your account → Two-factor sign-in.",
                "info",
            )
            return response
        form.code.errors = ["That is not one of your unused recovery codes."]
    return render_template("auth/two_factor_recovery.html", form=form), 400 if form.errors else 200


# --- step-up ----------------------------------------------------------------------------------------------


@bp.route("/account/confirm", methods=["GET", "POST"])
@signed_in
@limiter.limit(_account_limit, methods=["POST"], key_func=_current_key, deduct_when=_failed)
def confirm():
    """Confirm it's you again before an act that matters (step_up.py), then go on to ?next=."""
    user = current_user._get_current_object()
    next_url = safe_next(request.values.get("next"))
    kind = step_up.confirmation_kind(user)
    form = ConfirmForm(kind=kind)
    if form.validate_on_submit():
        with saving():
            method = step_up.confirm_inline(user, form.secret.data, purpose="step-up")
        if method:
            return redirect(next_url or url_for(".account"))
        g.second_factor_failed = True
        form.secret.errors = [
            "That is not your password." if kind == "password" else "That code does not match, or was used."
        ]
    return render_template(
        "auth/confirm.html", form=form, kind=kind, next=next_url, passkey_purpose="step-up"
    ), 400 if form.errors else 200
