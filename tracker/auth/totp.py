"""Authenticator apps (TOTP, RFC 6238: 6 digits, 30-second steps): enrolment, checking a code once, turning it
off. The QR code is drawn here as inline SVG (segno): nothing leaves the server. Services flush and audit; the
views commit."""

import io
import re

import pyotp
import segno

from .. import audit
from ..db import db, utcnow
from .models import User
from .second_factor import register_method
from .two_factor_models import TotpCredential

ISSUER = "Safeguarding Tracker"
#: codes from the step before and after the current one are accepted too (clocks drift, people type slowly)
WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()


def credential(user: User) -> TotpCredential | None:
    return db.session.get(TotpCredential, user.id)


def has_totp(user: User) -> bool:
    return credential(user) is not None


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The otpauth:// address as an inline <svg> (no XML declaration), sized by CSS."""
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=True,
        nl=False,
        scale=1,
        border=2,
        omitsize=True,
        svgclass="qr-code",
        title="QR code for your authenticator app",
    )
    return out.getvalue().decode()


def grouped(secret: str) -> str:
    """The secret in groups of four, easier to type into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def clean(code: str | None) -> str:
    return re.sub(r"[\s-]", "", code or "")


def matching_counter(secret: str, code: str, *, after: int = 0) -> int | None:
    """The time step whose code `code` is (within WINDOW of now), if later than `after`; else None."""
    code = clean(code)
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    current = int(utcnow().timestamp()) // totp.interval
    for counter in range(current - WINDOW, current + WINDOW + 1):
        if counter > after and pyotp.utils.strings_equal(totp.generate_otp(counter), code):
            return counter
    return None


def enrol(user: User, secret: str, code: str) -> bool:
    """Keep `secret` as the user's authenticator app if `code` is its current code; audited."""
    counter = matching_counter(secret, code)
    if counter is None:
        return False
    existing = credential(user)
    if existing is not None:
        db.session.delete(existing)
        db.session.flush()
    db.session.add(TotpCredential(user_id=user.id, secret=secret, last_counter=counter, created_at=utcnow()))
    db.session.flush()
    audit.record("auth.totp_enrolled", actor=user, subject=user)
    return True


def verify(user: User, code: str) -> bool:
    """Whether `code` is a current code of the user's app not used before; a code is used up once accepted.
    Records nothing: the caller audits the outcome with its purpose."""
    cred = credential(user)
    if cred is None:
        return False
    counter = matching_counter(cred.secret, code, after=cred.last_counter)
    if counter is None:
        return False
    cred.last_counter = counter
    db.session.flush()
    return True


def remove(user: User) -> None:
    db.session.execute(db.delete(TotpCredential).where(TotpCredential.user_id == user.id))


def disable(user: User) -> None:
    remove(user)
    audit.record("auth.totp_disabled", actor=user, subject=user)


register_method("totp", "Authenticator app", has_totp, reset=remove)
