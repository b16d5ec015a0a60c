"""Every state-changing request without a valid CSRF token is refused and changes nothing."""

from flask import url_for

from tracker.extensions import db

from .conftest import audit_count
from .world import FORM_DATA, build_worlds, sign_in, url_args


def test_every_post_route_refuses_a_request_without_a_csrf_token(app):
    a, _ = build_worlds()
    a.members["lead"].user.is_platform_admin = True  # so admin routes get past their own check
    db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = True
    refused = []
    try:
        rules = [r for r in app.url_map.iter_rules() if "POST" in r.methods]
        assert rules
        for rule in rules:
            client = sign_in(app.test_client(), a.members["lead"].user)
            with app.test_request_context():
                url = url_for(rule.endpoint, **url_args(rule, a.school.slug, a))
            before = audit_count()
            for data in (FORM_DATA, {**FORM_DATA, "csrf_token": "forged"}):
                response = client.post(url, data=data)
                db.session.rollback()
                assert response.status_code == 400, f"{url}: {response.status_code}"
                assert "expired or was sent from somewhere else" in response.get_data(as_text=True)
                assert audit_count() == before, url
            refused.append(url)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    print(f"CSRF: {len(refused)} POST routes refused without a token")


def test_a_form_with_its_token_is_accepted(app):
    """The check is not simply refusing everything: the page's own token works."""
    import re

    a, _ = build_worlds()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = sign_in(app.test_client(), a.members["lead"].user)
        page = client.get(f"/s/{a.school.slug}/settings").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(
            f"/s/{a.school.slug}/settings",
            data={
                "csrf_token": token,
                "name": "Renamed",
                "country": "X",
                "timezone": "UTC",
                "year_start_month": "9",
            },
        )
        assert response.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
