"""Passwords: hashing with argon2id (hashes are upgraded on sign-in when parameters change) and the strength
check every newly chosen password must pass (zxcvbn's estimate, knowing the person's e-mail and name)."""

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from wtforms.validators import ValidationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY = _hasher.hash("not-a-real-password")

MIN_LENGTH = 10
#: zxcvbn's score (0-4) a new password must reach: 3 is "safely unguessable" (about 10^8 guesses and more)
MIN_SCORE = 3
#: zxcvbn refuses longer input, and its time grows fast with length (seconds at 200 random characters):
#: longer passwords are judged on their first ESTIMATE_LENGTH characters
ESTIMATE_LENGTH = 72


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(user, password: str) -> bool:
    """Verify `password` for `user` (or a missing user); rehash in place when outdated."""
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if user is None or not user.password_hash:
        return False
    if _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return True


def strength_inputs(*values) -> list[str]:
    """The words a guesser tries first for this person: each value (e-mail, name, school name) whole, and
    its parts (the e-mail's local part and domain and their pieces, each word of a name)."""
    words = []
    for value in values:
        value = str(value or "").strip().lower()
        if not value:
            continue
        words.extend((value, re.sub(r"[\W_]+", "", value)))  # "priya raman" and "priyaraman"
        if "@" in value:
            words.extend(value.split("@", 1))
        words.extend(re.split(r"[\W_]+", value))
    seen = set()
    return [w for w in words if len(w) >= 2 and not (w in seen or seen.add(w))]


def password_problem(password: str, user_inputs=()) -> str | None:
    """Why `password` is too easy to guess, in plain words; None when it is strong enough."""
    result = zxcvbn(password[:ESTIMATE_LENGTH], user_inputs=list(user_inputs))
    if result["score"] >= MIN_SCORE:
        return None
    reasons = []
    if any(match.get("dictionary_name") == "user_inputs" for match in result["sequence"]):
        reasons.append(
            "It contains your name, your e-mail address or the school's name, which are among "
            "the first things someone would try."
        )
    feedback = result["feedback"]
    if feedback.get("warning"):
        reasons.append(_sentence(feedback["warning"]))
    reasons.extend(_sentence(s) for s in feedback.get("suggestions", ()))
    reasons.append(
        "A short sentence of four or more words that only you would put together is easy to "
        "remember and hard to guess."
    )
    return "This password is too easy to guess. " + " ".join(reasons)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


class StrongPassword:
    """WTForms validator for a newly chosen password: refuses one zxcvbn can guess (score below MIN_SCORE).

    It knows the person from the form: its `name` and `email` fields when it has them, and the values the
    view puts in `form.password_user_inputs` (the account's e-mail and name, the school's name)."""

    def __call__(self, form, field):
        if field.errors or not field.data:  # empty or too short: already said
            return
        values = list(getattr(form, "password_user_inputs", ()))
        for name in ("email", "name"):
            other = getattr(form, name, None)
            if other is not None and isinstance(other.data, str):
                values.append(other.data)
        problem = password_problem(field.data, strength_inputs(*values))
        if problem:
            raise ValidationError(problem)


def set_hasher_for_tests(hasher: PasswordHasher):
    """Swap the hasher (tests use cheap parameters, and a test checks rehash-on-login)."""
    global _hasher
    _hasher = hasher
