"""Passkeys and security keys (WebAuthn) as a second factor: the credential model and the ceremonies.

A ceremony has two requests: the options (a fresh challenge, kept in the Flask session for one answer and a
few minutes) and the browser's answer, verified by py_webauthn against that challenge, this site's origin and
relying-party id (the host of TRACKER_BASE_URL in production; the request's own host in development, so
http://localhost and http://127.0.0.1 both work) and, for an assertion, the stored public key and signature
counter. A counter that does not move forward means a copied authenticator: refused.
"""

import uuid
from datetime import datetime
from urllib.parse import urlsplit

import webauthn
from flask import current_app, has_request_context, request, session
from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .. import audit
from ..db import UTCDateTime, UUIDPk, db, utcnow
from ..transactions import DomainError
from . import second_factor
from .models import User

#: how long the browser has to answer a challenge
CHALLENGE_SECONDS = 300
#: how many passkeys one account may keep
MAX_PASSKEYS = 10
NAME_MAX = 60
TRANSPORTS = {t.value for t in AuthenticatorTransport}
_SESSION_KEY = "passkey_challenge"


class Passkey(UUIDPk, db.Model):
    """One passkey or security key of an account."""

    __tablename__ = "passkeys"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True)
    #: the credential id the authenticator chose, base64url
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    #: COSE public key, as the registration gave it
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    #: the authenticator's signature counter at its last use (0: the authenticator keeps none)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    #: how the browser may reach it ("usb,nfc", "internal", "hybrid"), as the browser reported
    transports: Mapped[str] = mapped_column(String(100), default="")
    #: the member's own name for it ("Work laptop", "Blue key")
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PasskeyRefused(DomainError):
    """A passkey ceremony that cannot go on; the message is for the user."""


def user_passkeys(user: User) -> list[Passkey]:
    return list(
        db.session.scalars(
            db.select(Passkey).where(Passkey.user_id == user.id).order_by(Passkey.created_at, Passkey.id)
        )
    )


def has_passkey(user: User) -> bool:
    return db.session.scalar(db.select(Passkey.id).where(Passkey.user_id == user.id).limit(1)) is not None


def reset(user: User) -> int:
    """Delete every passkey of `user` (a lead's reset of a member's second factor); return how many."""
    keys = user_passkeys(user)
    for key in keys:
        db.session.delete(key)
    db.session.flush()
    return len(keys)


second_factor.register_method("passkey", "Passkey or security key", has_method=has_passkey, reset=reset)


def relying_party() -> tuple[str, str]:
    """(RP id, expected origin): this site as the browser sees it."""
    if current_app.config.get("TRACKER_ENV") == "production" or not has_request_context():
        parts = urlsplit(current_app.config["TRACKER_BASE_URL"])
    else:
        parts = urlsplit(request.host_url)
    return parts.hostname or "", f"{parts.scheme}://{parts.netloc}"


def _new_challenge(purpose: str, user: User) -> bytes:
    challenge = webauthn.helpers.generate_challenge()
    session[_SESSION_KEY] = {
        "purpose": purpose,
        "user": str(user.id),
        "value": bytes_to_base64url(challenge),
        "at": utcnow().timestamp(),
    }
    return challenge


def _take_challenge(purpose: str, user: User) -> tuple[bytes | None, float]:
    """The challenge issued for `purpose` and `user`, and when; used up: each challenge gets one answer (in
    this session: the cookie is the browser's, so an assertion also checks that its challenge is newer than
    the key's last use)."""
    held = session.pop(_SESSION_KEY, None)
    if (
        not isinstance(held, dict)
        or held.get("purpose") != purpose
        or held.get("user") != str(user.id)
        or not isinstance(held.get("at"), (int, float))
        or utcnow().timestamp() - held["at"] > CHALLENGE_SECONDS
    ):
        return None, 0.0
    return base64url_to_bytes(held["value"]), float(held["at"])


def _descriptor(key: Passkey) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in key.transports.split(",") if t in TRANSPORTS]
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(key.credential_id), transports=transports or None
    )


def registration_options(user: User) -> str:
    """Options (JSON text) for adding a passkey to `user`'s account."""
    if len(user_passkeys(user)) >= MAX_PASSKEYS:
        raise PasskeyRefused(f"You have {MAX_PASSKEYS} passkeys already: remove one you no longer use first.")
    rp_id, _ = relying_party()
    options = webauthn.generate_registration_options(
        rp_id=rp_id,
        rp_name="Safeguarding Tracker",
        user_id=user.id.bytes,
        user_name=user.email,
        user_display_name=user.display_name,
        challenge=_new_challenge("register", user),
        exclude_credentials=[_descriptor(k) for k in user_passkeys(user)],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.DISCOURAGED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        timeout=CHALLENGE_SECONDS * 1000,
    )
    return webauthn.options_to_json(options)


def clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise PasskeyRefused("Give the passkey a name, such as “Work laptop” or “Blue key”.", field="name")
    if len(name) > NAME_MAX:
        raise PasskeyRefused(f"Keep the name to {NAME_MAX} characters.", field="name")
    if any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029\u202e" for c in name):
        raise PasskeyRefused("The name has characters that cannot be shown; use letters and numbers.")
    return name


def add_passkey(user: User, name, credential) -> Passkey:
    """Verify the browser's answer to the registration options and keep the new passkey."""
    challenge, _ = _take_challenge("register", user)  # each challenge gets one answer, right or wrong
    name = clean_name(name)
    if challenge is None:
        raise PasskeyRefused("That request is too old or was already used. Try adding the passkey again.")
    if not isinstance(credential, dict):
        raise PasskeyRefused("The browser's answer was not understood. Try again.")
    rp_id, origin = relying_party()
    try:
        verified = webauthn.verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin
        )
    except Exception as exc:  # noqa: BLE001  anything in an answer that does not verify is a refusal
        current_app.logger.info("Passkey registration refused: %s", exc)
        raise PasskeyRefused("The passkey could not be checked, so it was not added. Try again.") from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(db.select(Passkey.id).where(Passkey.credential_id == credential_id)) is not None:
        raise PasskeyRefused("That passkey is already on an account.")
    response = credential.get("response")
    reported = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(reported, list):
        reported = []
    transports = sorted({t for t in reported if isinstance(t, str) and t in TRANSPORTS})
    key = Passkey(
        user_id=user.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=",".join(transports),
        name=name,
    )
    db.session.add(key)
    db.session.flush()
    audit.record("auth.passkey_added", subject=key, actor=user, after={"name": name, "user": user.email})
    return key


def remove_passkey(user: User, passkey_id) -> Passkey:
    try:
        wanted = uuid.UUID(str(passkey_id))
    except ValueError:
        wanted = None
    key = (
        db.session.scalar(db.select(Passkey).where(Passkey.id == wanted, Passkey.user_id == user.id))
        if wanted
        else None
    )
    if key is None:
        raise PasskeyRefused("That passkey is not on your account (it may have been removed already).")
    audit.record(
        "auth.passkey_removed", subject=key, actor=user, before={"name": key.name, "user": user.email}
    )
    db.session.delete(key)
    db.session.flush()
    requiring = second_factor.requiring_schools(user)
    if requiring and not second_factor.enrolled_methods(user):
        names = ", ".join(s.name for s in requiring)
        raise PasskeyRefused(
            f"{names} requires two-factor sign-in, and this passkey is your only second factor. Add another "
            "passkey or set up an authenticator app first, then remove this one."
        )
    return key


def authentication_options(user: User, purpose: str) -> str:
    """Options (JSON text) for proving `purpose` ("sign-in", "step-up") with one of `user`'s passkeys."""
    keys = user_passkeys(user)
    if not keys:
        raise PasskeyRefused("This account has no passkey. Use another way to confirm it's you.")
    rp_id, _ = relying_party()
    options = webauthn.generate_authentication_options(
        rp_id=rp_id,
        challenge=_new_challenge(purpose, user),
        allow_credentials=[_descriptor(k) for k in keys],
        user_verification=UserVerificationRequirement.PREFERRED,
        timeout=CHALLENGE_SECONDS * 1000,
    )
    return webauthn.options_to_json(options)


def check_assertion(user: User, credential, purpose: str) -> tuple[Passkey | None, str]:
    """Verify the browser's answer to the authentication options. Returns (the passkey, "") on success, else
    (None, a message for the user); either way the attempt is audited (auth.passkey_used / _failed)."""
    challenge, issued_at = _take_challenge(purpose, user)
    key, reason, message = None, "", ""
    if challenge is None:
        reason = "no challenge"
        message = "That request is too old or was already used. Try again."
    elif not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
        reason = "malformed answer"
        message = "The browser's answer was not understood. Try again."
    else:
        key = db.session.scalar(
            db.select(Passkey).where(
                Passkey.user_id == user.id, Passkey.credential_id == credential["id"][:1400]
            )
        )
        if key is None:
            reason = "unknown passkey"
            message = "That passkey is not on this account."
        elif key.last_used_at is not None and issued_at <= key.last_used_at.timestamp():
            # an answer to a challenge from before the key's last use: a replayed session cookie and answer
            key, reason = None, "challenge older than the passkey's last use (a replay?)"
            message = "That request is too old or was already used. Try again."
    if key is not None:
        rp_id, origin = relying_party()
        try:
            verified = webauthn.verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=key.public_key,
                credential_current_sign_count=key.sign_count,
            )
        except Exception as exc:  # noqa: BLE001  anything in an answer that does not verify is a refusal
            cloned = "sign count" in str(exc).lower()
            reason = (
                "sign count went backwards (a copied authenticator?)" if cloned else f"not verified: {exc}"
            )
            message = (
                "This passkey looks copied (its counter went backwards), so it was refused. "
                "Use another way and tell your school's lead."
                if cloned
                else "The passkey could not be checked. Try again."
            )
        else:
            key.sign_count = verified.new_sign_count
            key.last_used_at = utcnow()
            audit.record(
                "auth.passkey_used",
                subject=key,
                actor=user,
                after={"name": key.name, "purpose": purpose, "user": user.email},
            )
            return key, ""
    audit.record(
        "auth.passkey_failed",
        subject=user,
        actor=user,
        after={
            "purpose": purpose,
            "reason": reason[:200],
            "user": user.email,
            "passkey": key.name if key else "",
        },
    )
    return None, message
