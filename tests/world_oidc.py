"""Sign-in domains for the two-school world: each school accepts its own marker's domain, so the cross-tenant,
role and CSRF suites cover the lead's sign-in domains page; the provider routes get a provider name."""

from tracker.auth.sign_in_domains import set_domains

from .world import FIXED_PARAMS, FORM_DATA, WORLD_BUILDERS


def build_sign_in_domains(world, marker):
    set_domains(world.school, [f"staff-{marker.lower()}.example"])


WORLD_BUILDERS.append(build_sign_in_domains)
FIXED_PARAMS.setdefault("provider", "google")  # /login/oidc/<provider>: off unless configured (404)
FORM_DATA.setdefault("domains", "new-domain.example")
