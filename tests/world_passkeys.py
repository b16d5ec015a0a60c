"""Passkeys for the two-school world: the account pages name a passkey of the signed-in user in the address;
the shared suites use an id no one has (removing it is refused with a message, never a 5xx), and
tests/test_passkeys.py checks that one member cannot remove another's."""

from .world import FIXED_PARAMS

FIXED_PARAMS["passkey_id"] = "00000000-0000-0000-0000-000000000000"
