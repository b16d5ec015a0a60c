"""Step-up: an act that matters (signing off a year, changing a member's role or removing them, exporting the
recruitment register) asks for the second factor (or the password, for someone without one) again when the
last one was more than `TRACKER_STEP_UP_MINUTES` ago.

CONTRACT (shared by the two-factor, passkey and register work; keep these names and signatures):

- `@step_up_required(purpose)`: a view decorator, placed *under* the access decorator. When the signed-in
  user's last confirmation is too old it redirects to the confirmation page with `next` (a GET) or refuses
  the POST with a redirect back and a message; otherwise the view runs. `fn.step_up_purpose = purpose`.
- `recently_confirmed() -> bool`: whether the last confirmation is recent enough.
- `mark_confirmed(method)`: a confirmation handler (TOTP, recovery code, passkey, password) calls this after
  success; it records the time in the session and audits `auth.step_up` with the method.
"""

from functools import wraps


def recently_confirmed() -> bool:
    return True  # filled in by the two-factor work


def mark_confirmed(method: str) -> None:
    return None  # filled in by the two-factor work


def step_up_required(purpose: str):
    def decorator(fn):
        @wraps(fn)
        def wrapper(*args, **kwargs):
            return fn(*args, **kwargs)

        wrapper.step_up_purpose = purpose
        return wrapper

    return decorator
