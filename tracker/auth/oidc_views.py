"""Sign-in with Google or Microsoft: the button's POST (off to the provider) and the provider's way back.

Both are public and throttled per address; what is decided is in tracker/auth/oidc.py. A refusal shows the
sign-in page again with the reason, never a 5xx.
"""

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user

from ..access import public
from ..extensions import limiter
from ..security import CSP
from ..transactions import saving
from . import bp, oidc
from .forms import LoginForm
from .second_factor import finish_primary_sign_in
from .views import safe_next

#: the pages that show the "Sign in with ..." buttons
BUTTON_PAGES = ("auth.login", "auth.oidc_start", "auth.oidc_callback")


@bp.after_request
def _let_the_buttons_reach_the_providers(response):
    """The buttons' forms redirect to the provider: the sign-in page's `form-action` must allow its origin
    (Chromium checks a form's redirects too), and only that page's."""
    if request.endpoint in BUTTON_PAGES:
        origins = oidc.provider_origins()
        if origins:
            response.headers["Content-Security-Policy"] = CSP.replace(
                "form-action 'self'", "form-action 'self' " + " ".join(origins)
            )
    return response


def _limit():
    return current_app.config["TRACKER_OIDC_LIMIT"]


def _sign_in_page(refusal: oidc.SignInRefused, next_url=None):
    return render_template(
        "auth/login.html", form=LoginForm(formdata=None), next=next_url, provider_error=refusal.message
    ), refusal.status


@bp.route("/login/oidc/<provider>", methods=["POST"])
@public
@limiter.shared_limit(_limit, scope="oidc")
def oidc_start(provider):
    chosen = oidc.provider(provider)
    next_url = safe_next(request.form.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or url_for("picker.index"))
    try:
        return oidc.start(chosen, next_url)
    except oidc.SignInRefused as refusal:
        return _sign_in_page(refusal, next_url)


@bp.route("/login/oidc/<provider>/callback")
@public
@limiter.shared_limit(_limit, scope="oidc")
def oidc_callback(provider):
    chosen = oidc.provider(provider)
    next_url = safe_next(session.pop(oidc.NEXT_KEY, None))
    try:
        claims = oidc.claims_from_callback(chosen)
        email = oidc.verified_email(chosen, claims)
        with saving():
            user = oidc.member_for(chosen, email)
            oidc.record_sign_in(chosen, user)
            response = finish_primary_sign_in(
                user, remember=False, via=f"oidc:{chosen.name}", next_url=next_url
            )
        return response
    except oidc.SignInRefused as refusal:
        with saving():  # the refusal stays on the audit trail
            oidc.record_refusal(chosen, refusal)
        return _sign_in_page(refusal, next_url)


@bp.app_context_processor
def _sign_in_providers():
    """In templates: `sign_in_providers()`, the configured providers (the sign-in page's buttons), and
    `provider_sign_in_for(user)` (the account page: whether the user's schools accept their address)."""
    return {"sign_in_providers": oidc.providers, "provider_sign_in_for": oidc.account_sign_in}
