"""Sign-in with Google or Microsoft (OpenID Connect, Authlib's Flask client).

An installation operator turns a provider on with its client id and secret (tracker/config.py); nothing is
fetched from a provider that is not configured. The flow is the authorization code flow with PKCE (S256),
`state` and `nonce`, all kept in the signed Flask session by Authlib. On the way back the ID token's
signature, issuer, audience, expiry and nonce are checked by Authlib; then this module decides who it is:

- Google: the ID token's `email`, only when `email_verified` is true.
- Microsoft: the ID token's `email`, else `preferred_username`. Microsoft sends no "verified" flag, so the
  address is believed only from the one tenant the operator configured (the issuer check ties the token to
  it): that tenant's administrators control its addresses. The shared tenants are refused by the settings.

The address must belong to an existing, active account (accounts are made by invitation only, never here)
with a current membership of a school that lists the address's domain (tracker/auth/sign_in_domains.py).
Whatever the reason for a refusal, the page says the same to everyone whose provider account is fine, so it
tells nobody which addresses have an account here; the audit trail keeps the reason (never a token).
"""

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.flask_client import OAuth
from flask import current_app, session
from joserfc.errors import JoseError
from werkzeug.exceptions import NotFound

from .. import audit
from ..links import external_url
from .services import find_user
from .sign_in_domains import accepting_memberships, domain_of

log = logging.getLogger(__name__)

#: what is asked of the provider: who it is (openid) and their address (email); profile has the name
SCOPE = "openid email profile"
#: seconds to wait for the provider's discovery document, keys and token endpoint
TIMEOUT = 10
#: where the page to return to waits between leaving for the provider and coming back
NEXT_KEY = "oidc_next"


@dataclass(frozen=True)
class Provider:
    name: str  #: "google" or "microsoft": the URL part and the settings' middle word
    label: str  #: "Google", "Microsoft"
    client_id: str
    client_secret: str
    metadata_url: str
    tenant: str = ""


LABELS = {"google": "Google", "microsoft": "Microsoft"}


def providers() -> list[Provider]:
    """The providers this installation offers, in a fixed order; empty when none is configured."""
    config = current_app.config
    found = []
    for name, label in LABELS.items():
        prefix = f"TRACKER_OIDC_{name.upper()}_"
        if config.get(prefix + "CLIENT_ID"):
            found.append(
                Provider(
                    name=name,
                    label=label,
                    client_id=config[prefix + "CLIENT_ID"],
                    client_secret=config[prefix + "CLIENT_SECRET"],
                    metadata_url=config[prefix + "METADATA_URL"],
                    tenant=config.get(prefix + "TENANT", ""),
                )
            )
    return found


def provider_origins() -> list[str]:
    """Where the providers' sign-in pages are: the origin of each discovery document (Google's and
    Microsoft's sign-in pages are on the same host as theirs)."""
    return sorted({_origin(p.metadata_url) for p in providers()})


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def provider(name: str) -> Provider:
    """The configured provider called `name`; 404 for any other name."""
    for candidate in providers():
        if candidate.name == name:
            return candidate
    raise NotFound()


def _client(chosen: Provider):
    """Authlib's client for the provider, registered once per app and settings (it keeps the provider's
    discovery document and keys once fetched)."""
    clients = current_app.extensions.setdefault("tracker.oidc", {})
    client = clients.get(chosen)
    if client is None:
        oauth = OAuth(current_app)
        client = oauth.register(
            chosen.name,
            client_id=chosen.client_id,
            client_secret=chosen.client_secret,
            server_metadata_url=chosen.metadata_url,
            client_kwargs={"scope": SCOPE, "code_challenge_method": "S256", "default_timeout": TIMEOUT},
        )
        clients[chosen] = client
    return client


class SignInRefused(Exception):
    """The provider sign-in did not let anyone in: `reason` for the audit trail, `message` for the page,
    `status` for the answer (never a 5xx: this app is fine, and the page offers the password instead)."""

    def __init__(self, reason: str, message: str, status: int = 400, *, email: str = "", user=None):
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status
        self.email = email  #: the address the provider named, for the audit trail
        self.user = user  #: the account with that address, if any, for the audit trail


def _unreachable(chosen: Provider) -> SignInRefused:
    return SignInRefused(
        "provider_unreachable",
        f"{chosen.label} cannot be reached right now. Try again in a few minutes, or sign in with your "
        "e-mail address and password.",
    )


def start(chosen: Provider, next_url: str | None):
    """The redirect to the provider's sign-in page (state, nonce, PKCE verifier: kept in the session)."""
    session[NEXT_KEY] = next_url
    try:
        return _client(chosen).authorize_redirect(external_url("auth.oidc_callback", provider=chosen.name))
    except (requests.RequestException, ValueError, RuntimeError, AuthlibBaseError) as exc:
        log.warning("%s discovery failed: %s", chosen.label, type(exc).__name__)
        raise _unreachable(chosen) from None


def claims_from_callback(chosen: Provider) -> dict:
    """The ID token's claims of the provider's answer on the callback, checked by Authlib (signature, issuer,
    audience, expiry, nonce; the state against the session; the code exchanged with the PKCE verifier)."""
    try:
        token = _client(chosen).authorize_access_token()
    except MismatchingStateError:
        raise SignInRefused(
            "state_mismatch",
            f"That sign-in with {chosen.label} was not started here, or has already been used. "
            f"Start again with the “Sign in with {chosen.label}” button.",
        ) from None
    except requests.RequestException as exc:
        log.warning("%s token exchange failed: %s", chosen.label, type(exc).__name__)
        raise _unreachable(chosen) from None
    except (AuthlibBaseError, JoseError, ValueError, RuntimeError) as exc:
        # an error the provider returned (the person cancelled, a used code) or a token that fails a check
        log.warning("%s sign-in refused: %s", chosen.label, type(exc).__name__)
        raise SignInRefused(
            "invalid_response",
            f"{chosen.label} did not sign you in. Start again with the “Sign in with {chosen.label}” "
            "button, or sign in with your e-mail address and password.",
        ) from None
    claims = token.get("userinfo")
    if not claims:
        raise SignInRefused(
            "invalid_response",
            f"{chosen.label} sent no ID token. Sign in with your e-mail address and password.",
        )
    return dict(claims)


def verified_email(chosen: Provider, claims: dict) -> str:
    """The address the provider vouches for (see the module's docstring), lower case."""
    if chosen.name == "microsoft":
        email = claims.get("email") or claims.get("preferred_username") or ""
        verified = bool(chosen.tenant)
    else:
        email = claims.get("email") or ""
        verified = claims.get("email_verified") is True
    email = email.strip().lower() if isinstance(email, str) else ""
    if "@" not in email:
        raise SignInRefused(
            "no_email",
            f"This {chosen.label} account has no e-mail address, so it can't sign in here. Sign in with "
            "your e-mail address and password.",
            403,
        )
    if not verified:
        raise SignInRefused(
            "email_unverified",
            f"{chosen.label} has not confirmed this account's e-mail address, so it can't sign in here. "
            "Sign in with your e-mail address and password.",
            403,
            email=email,
        )
    return email


def member_for(chosen: Provider, email: str):
    """The active user with that address who is a current member of a school accepting its domain."""
    user = find_user(email)
    reason = None
    if user is None or not user.active:
        reason = "no_account"
    elif not accepting_memberships(user, domain_of(email)):
        reason = "domain_not_accepted"
    if reason is None:
        return user
    raise SignInRefused(
        reason,
        f"This {chosen.label} account can't sign in here; ask your school's lead for an invitation or use "
        "your password.",
        403,
        email=email,
        user=user,
    )


def record_refusal(chosen: Provider, refusal: SignInRefused) -> None:
    """Keep the refusal on the audit trail: the provider, the reason and the address it named (if any)."""
    audit.record(
        "auth.provider_sign_in_refused",
        actor_email=refusal.email[:254],
        subject=refusal.user,
        after={"provider": chosen.name, "reason": refusal.reason},
    )


def record_sign_in(chosen: Provider, user) -> None:
    audit.record(
        "auth.sign_in", actor=user, actor_email=user.email, subject=user, after={"via": f"oidc:{chosen.name}"}
    )


def account_sign_in(user) -> dict:
    """For the account page: the providers on offer, the user's address domain and the names of their schools
    that accept it (empty when no provider is configured)."""
    found = providers()
    domain = domain_of(user.email)
    schools = [m.school.name for m in accepting_memberships(user, domain)] if found else []
    return {"providers": found, "domain": domain, "schools": schools}
