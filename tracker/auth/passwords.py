"""Password hashing with argon2id; hashes are upgraded on sign-in when parameters change."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash to verify against when the account does not exist, so timing does not reveal it.
_DUMMY = _hasher.hash("not-a-real-password")

MIN_LENGTH = 10


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


def set_hasher_for_tests(hasher: PasswordHasher):
    """Swap the hasher (tests use cheap parameters, and a test checks rehash-on-login)."""
    global _hasher
    _hasher = hasher
