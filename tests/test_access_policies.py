"""Every view states who may use it."""

from tracker.access import policy_of


def test_every_endpoint_states_an_access_policy(app):
    """A route without @public, @signed_in, @platform_admin or @school_roles fails this test."""
    missing = sorted(
        {rule.endpoint for rule in app.url_map.iter_rules() if policy_of(app, rule.endpoint) is None}
    )
    assert missing == [], f"endpoints without an access policy: {missing}"


def test_school_pages_all_require_a_school_role(app):
    """Every route under /s/<school>/ is a school page: it must use @school_roles."""
    wrong = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "school" in rule.arguments and not isinstance(policy_of(app, rule.endpoint), tuple)
    ]
    assert wrong == []
