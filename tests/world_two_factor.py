"""Two-factor objects for the two-school world: the target member of each school has an authenticator app and
recovery codes, so the role, cross-tenant and CSRF suites reset a real second factor (a lead's
schools.reset_factor) and B's never changes from A."""

from tracker.auth import recovery_codes, totp

from .world import WORLD_BUILDERS


def build_two_factor(world, marker):
    user = world.target_member.user
    secret = totp.new_secret()
    assert totp.enrol(user, secret, totp.pyotp.TOTP(secret).now())
    recovery_codes.generate(user)
    world.objects["target_totp_secret"] = secret


WORLD_BUILDERS.append(build_two_factor)
