"""Sign-in with Google or Microsoft, through a real OpenID Connect provider (tests/oidc_provider, the npm
package `oidc-provider`) on 127.0.0.1: the tracker fetches its discovery document and keys, exchanges the code
with its token endpoint and checks the signed ID token; nothing of our own client is mocked."""

from html import unescape

import pytest
from flask import url_for
from sqlalchemy import select

from tracker.audit import AuditEvent
from tracker.auth.sign_in_domains import SchoolSignInDomain, clean_domain
from tracker.config import ConfigError, build_config
from tracker.extensions import db

from .oidc_helpers import CLIENT_ID, CLIENT_SECRET, metadata_url, oidc_provider, sign_in_at_provider
from .smtp_server import free_port

BASE = "http://tracker.test"
DOMAIN = "oidc-school.example"
REFUSED = "account can't sign in here; ask your school's lead for an invitation or use your password"


def _callback(name):
    return f"{BASE}/login/oidc/{name}/callback"


@pytest.fixture(scope="module")
def issuer():
    with oidc_provider([_callback("google"), _callback("microsoft")]) as url:
        yield url


def _google(url):
    return {
        "TRACKER_OIDC_GOOGLE_CLIENT_ID": CLIENT_ID,
        "TRACKER_OIDC_GOOGLE_CLIENT_SECRET": CLIENT_SECRET,
        "TRACKER_OIDC_GOOGLE_METADATA_URL": url,
    }


@pytest.fixture
def google(app, issuer, monkeypatch):
    """Sign-in with "Google" turned on, Google being the test provider."""
    for key, value in _google(metadata_url(issuer)).items():
        monkeypatch.setitem(app.config, key, value)
    return issuer


@pytest.fixture
def microsoft(app, issuer, monkeypatch):
    settings = {
        "TRACKER_OIDC_MICROSOFT_CLIENT_ID": CLIENT_ID,
        "TRACKER_OIDC_MICROSOFT_CLIENT_SECRET": CLIENT_SECRET,
        "TRACKER_OIDC_MICROSOFT_TENANT": "test-tenant",
        "TRACKER_OIDC_MICROSOFT_METADATA_URL": metadata_url(issuer),
    }
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    return issuer


@pytest.fixture
def school(make_school):
    """A school that accepts DOMAIN and does not require two-factor (the second step is not tested here)."""
    school = make_school(require_two_factor=False)
    db.session.add(SchoolSignInDomain(school_id=school.id, domain=DOMAIN))
    db.session.commit()
    return school


def _start(client, name="google", next_url=None):
    response = client.post(f"/login/oidc/{name}", data={"next": next_url} if next_url else {})
    assert response.status_code == 302, _text(response)[:500]
    return response.headers["Location"]


def _provider_sign_in(client, login, name="google", next_url=None):
    """Press the button, sign in at the provider as `login`; return the callback URL it sends us back to."""
    return sign_in_at_provider(_start(client, name, next_url), login, _callback(name))


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def _events(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


def test_a_member_whose_school_accepts_the_domain_signs_in_with_google(client, google, school, make_member):
    member = make_member(school, "staff", email=f"ana@{DOMAIN}")
    back = _provider_sign_in(client, f"ana@{DOMAIN}", next_url="/account")
    assert "code=" in back and "state=" in back
    response = client.get(back)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"  # where sign-in was going
    assert _signed_in(client)
    [event] = [e for e in _events("auth.sign_in") if e.subject_id == str(member.user_id)]
    assert event.after == {"via": "oidc:google"}


def test_a_member_with_a_second_factor_still_passes_it_after_google(app, client, google, school, make_member):
    """The provider replaces the password, not the second step (tracker/auth/second_factor.py)."""
    from tracker.auth.two_factor_models import TotpCredential

    member = make_member(school, "staff", email=f"lee@{DOMAIN}")
    db.session.add(TotpCredential(user_id=member.user_id, secret="JBSWY3DPEHPK3PXP"))
    db.session.commit()
    response = client.get(_provider_sign_in(client, f"lee@{DOMAIN}"))
    assert response.status_code == 302
    with app.test_request_context():
        assert response.headers["Location"] == url_for("auth.two_factor_challenge")
    assert not _signed_in(client)


def test_provider_sign_ins_are_throttled_per_address(app, client, google, monkeypatch):
    monkeypatch.setitem(app.config, "TRACKER_OIDC_LIMIT", "2 per minute")
    assert [client.post("/login/oidc/google").status_code for _ in range(3)] == [302, 302, 429]
    assert client.get(_callback("google")).status_code == 429  # the way back shares the limit


def test_the_sign_in_page_shows_a_button_only_for_configured_providers(client, app, google):
    response = client.get("/login")
    assert "Sign in with Google" in _text(response)
    assert "Sign in with Microsoft" not in _text(response)
    # the button's form may go on to the provider (Chromium applies form-action to its redirect), nowhere else
    assert f"form-action 'self' {google};" in response.headers["Content-Security-Policy"]
    app.config["TRACKER_OIDC_GOOGLE_CLIENT_ID"] = ""  # restored by monkeypatch
    response = client.get("/login")
    assert "Sign in with Google" not in _text(response)
    assert "form-action 'self';" in response.headers["Content-Security-Policy"]
    assert client.post("/login/oidc/google").status_code == 404


def test_an_address_google_has_not_verified_is_refused(client, google, school, make_member):
    make_member(school, "staff", email=f"unverified-bo@{DOMAIN}")
    response = client.get(_provider_sign_in(client, f"unverified-bo@{DOMAIN}"))
    assert response.status_code == 403
    assert "Google has not confirmed this account" in _text(response)
    assert not _signed_in(client)
    assert _events("auth.provider_sign_in_refused")[-1].after == {
        "provider": "google",
        "reason": "email_unverified",
    }


@pytest.mark.parametrize("case", ["unknown address", "inactive account", "domain not listed", "other school"])
def test_an_address_without_an_accepting_membership_is_refused_with_one_message(
    client, google, school, make_school, make_member, make_user, case
):
    if case == "unknown address":
        email, reason = f"nobody@{DOMAIN}", "no_account"
    elif case == "inactive account":
        email, reason = f"gone@{DOMAIN}", "no_account"
        make_member(school, "staff", email=email, active=False)
    elif case == "domain not listed":
        email, reason = "cy@elsewhere.example", "domain_not_accepted"
        make_member(school, "staff", email=email)
    else:  # a member of a school that does not list the domain; another school lists it
        email, reason = "di@elsewhere.example", "domain_not_accepted"
        make_member(make_school(require_two_factor=False), "lead", email=email)
        db.session.add(SchoolSignInDomain(school_id=school.id, domain="elsewhere.example"))
        db.session.commit()
    response = client.get(_provider_sign_in(client, email))
    assert response.status_code == 403
    assert f"This Google {REFUSED}" in _text(response)
    assert not _signed_in(client)
    event = _events("auth.provider_sign_in_refused")[-1]
    assert event.after == {"provider": "google", "reason": reason}
    assert event.actor_email == email


def test_a_changed_state_is_refused(client, google, school, make_member):
    make_member(school, "staff", email=f"ed@{DOMAIN}")
    back = _provider_sign_in(client, f"ed@{DOMAIN}")
    response = client.get(back.replace("state=", "state=x"))
    assert response.status_code == 400
    assert "was not started here, or has already been used" in _text(response)
    assert not _signed_in(client)
    assert _events("auth.provider_sign_in_refused")[-1].after["reason"] == "state_mismatch"


def test_a_callback_in_another_browser_is_refused(app, client, google, school, make_member):
    """The answer is tied to the browser that pressed the button (the state lives in its session)."""
    make_member(school, "staff", email=f"fay@{DOMAIN}")
    back = _provider_sign_in(client, f"fay@{DOMAIN}")
    other = app.test_client()
    assert other.get(back).status_code == 400
    assert client.get(back).status_code == 302  # the right browser still gets in, once
    assert client.get(back).status_code == 400  # and not twice


def test_a_changed_nonce_is_refused(client, google, school, make_member):
    """The ID token must carry the nonce this browser sent; one from another sign-in is refused."""
    make_member(school, "staff", email=f"gus@{DOMAIN}")
    back = _provider_sign_in(client, f"gus@{DOMAIN}")
    with client.session_transaction() as session:
        [key] = [k for k in session if k.startswith("_state_google_")]
        state = dict(session[key])
        state["data"] = {**state["data"], "nonce": "a-nonce-from-elsewhere"}
        session[key] = state
    response = client.get(back)
    assert response.status_code == 400
    assert "Google did not sign you in" in _text(response)
    assert not _signed_in(client)
    assert _events("auth.provider_sign_in_refused")[-1].after["reason"] == "invalid_response"


def test_a_refusal_by_the_provider_is_shown_not_a_server_error(client, google):
    response = client.get(_callback("google") + "?error=access_denied&state=whatever")
    assert response.status_code == 400
    assert "Google did not sign you in" in _text(response)


def test_a_provider_that_is_down_gets_a_clear_message(client, app, google, school, make_member, monkeypatch):
    make_member(school, "staff", email=f"hal@{DOMAIN}")
    back = _provider_sign_in(client, f"hal@{DOMAIN}")
    down = f"http://127.0.0.1:{free_port()}/.well-known/openid-configuration"
    monkeypatch.setitem(app.config, "TRACKER_OIDC_GOOGLE_METADATA_URL", down)
    response = client.get(back)  # the token exchange cannot reach it
    assert response.status_code == 400
    assert "Google cannot be reached right now" in _text(response)
    response = client.post("/login/oidc/google")  # nor can a new sign-in start
    assert response.status_code == 400
    assert "Google cannot be reached right now" in _text(response)
    assert not _signed_in(client)


def test_microsoft_accounts_of_the_configured_tenant_sign_in_without_a_verified_flag(
    client, microsoft, school, make_member
):
    """Microsoft sends no email_verified: its addresses are believed because the tenant is the school's."""
    make_member(school, "head", email=f"unverified-ivy@{DOMAIN}")
    response = client.get(_provider_sign_in(client, f"unverified-ivy@{DOMAIN}", name="microsoft"))
    assert response.status_code == 302
    assert _signed_in(client)
    assert _events("auth.sign_in")[-1].after == {"via": "oidc:microsoft"}


@pytest.mark.parametrize("name", ["microsoft", "google"])
def test_only_microsoft_falls_back_to_the_preferred_username(
    client, google, microsoft, school, make_member, name
):
    make_member(school, "staff", email=f"noemail-kai@{DOMAIN}")
    response = client.get(_provider_sign_in(client, f"noemail-kai@{DOMAIN}", name=name))
    if name == "microsoft":
        assert response.status_code == 302
        assert _signed_in(client)
    else:
        assert response.status_code == 403
        assert "This Google account has no e-mail address" in _text(response)
        assert _events("auth.provider_sign_in_refused")[-1].after == {
            "provider": "google",
            "reason": "no_email",
        }


def test_the_account_page_says_whether_provider_sign_in_applies(
    client, google, school, make_member, login_as
):
    member = make_member(school, "staff", email=f"jo@{DOMAIN}")
    login_as(member)
    page = _text(client.get("/account"))
    assert f"addresses at\n    <strong>{DOMAIN}</strong>" in page
    assert "Sign in with Google" in page
    db.session.execute(db.delete(SchoolSignInDomain).where(SchoolSignInDomain.school_id == school.id))
    db.session.commit()
    assert "None of your schools accepts sign-in with Google" in _text(client.get("/account"))


# --- the lead's sign-in domains page ------------------------------------------------------------------------


def test_the_lead_lists_the_domains_cleaned_and_the_change_is_audited(
    client, make_school, make_member, login_as
):
    school = make_school(require_two_factor=False)
    login_as(make_member(school, "lead"))
    url = f"/s/{school.slug}/settings/sign-in"
    assert "No domain is listed" in _text(client.get(url))
    response = client.post(url, data={"domains": " School.Example \n\nstaff.school.example.\nschool.example"})
    assert response.status_code == 302
    stored = db.session.execute(
        select(SchoolSignInDomain.domain).where(SchoolSignInDomain.school_id == school.id)
    ).scalars()
    assert sorted(stored) == ["school.example", "staff.school.example"]
    [event] = [e for e in _events("school.sign_in_domains_changed") if e.school_id == school.id]
    assert event.after == {"domains": ["school.example", "staff.school.example"]}
    assert "Accepted now: <strong>school.example, staff.school.example</strong>" in client.get(url).get_data(
        as_text=True
    )


def test_a_bad_domain_is_refused_with_the_typed_list_kept(client, make_school, make_member, login_as):
    school = make_school(require_two_factor=False)
    login_as(make_member(school, "lead"))
    url = f"/s/{school.slug}/settings/sign-in"
    response = client.post(url, data={"domains": "good.example\nme@bad.example"})
    assert response.status_code == 400
    page = _text(response)
    assert "is an e-mail address: give only what follows the @" in page
    assert "good.example\nme@bad.example</textarea>" in page
    assert _events("school.sign_in_domains_changed") == [] or all(
        e.school_id != school.id for e in _events("school.sign_in_domains_changed")
    )


@pytest.mark.parametrize(
    "text, problem",
    [
        ("ana@school.example", "is an e-mail address"),
        ("https://school.example", "is a web address"),
        ("school.example/staff", "is a web address"),
        ("localhost", "is not a domain"),
        ("bad_name.example", "is not a domain"),
        ("-bad.example", "is not a domain"),
        ("10.0.0.1", "is not a domain"),
        ("a" * 250 + ".example", "longer than a domain can be"),
    ],
)
def test_clean_domain_refuses_what_is_not_a_domain(text, problem):
    from tracker.auth.sign_in_domains import BadDomain

    with pytest.raises(BadDomain, match=problem):
        clean_domain(text)


# --- the settings ------------------------------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("TRACKER_"):
            monkeypatch.delenv(name)
    return monkeypatch


def _config(tmp_path):
    return build_config(tmp_path, {"SECRET_KEY": "k" * 64, "TRACKER_AUDIT_KEY": "a" * 64})


def test_the_provider_settings(clean_env, tmp_path):
    config = _config(tmp_path)
    assert config["TRACKER_OIDC_GOOGLE_CLIENT_ID"] == ""  # off: nothing is fetched
    clean_env.setenv("TRACKER_OIDC_GOOGLE_CLIENT_ID", "id")
    clean_env.setenv("TRACKER_OIDC_GOOGLE_CLIENT_SECRET", "secret")
    clean_env.setenv("TRACKER_OIDC_MICROSOFT_CLIENT_ID", "id")
    clean_env.setenv("TRACKER_OIDC_MICROSOFT_CLIENT_SECRET", "secret")
    clean_env.setenv("TRACKER_OIDC_MICROSOFT_TENANT", "contoso.onmicrosoft.com")
    config = _config(tmp_path)
    assert config["TRACKER_OIDC_GOOGLE_METADATA_URL"] == (
        "https://accounts.google.com/.well-known/openid-configuration"
    )
    assert config["TRACKER_OIDC_MICROSOFT_METADATA_URL"] == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0/.well-known/openid-configuration"
    )


@pytest.mark.parametrize(
    "settings, named",
    [
        ({"TRACKER_OIDC_GOOGLE_CLIENT_ID": "id"}, "TRACKER_OIDC_GOOGLE_CLIENT_SECRET"),
        (
            {"TRACKER_OIDC_MICROSOFT_CLIENT_ID": "id", "TRACKER_OIDC_MICROSOFT_CLIENT_SECRET": "s"},
            "TRACKER_OIDC_MICROSOFT_TENANT",
        ),
        (
            {
                "TRACKER_OIDC_MICROSOFT_CLIENT_ID": "id",
                "TRACKER_OIDC_MICROSOFT_CLIENT_SECRET": "s",
                "TRACKER_OIDC_MICROSOFT_TENANT": "common",
            },
            "TRACKER_OIDC_MICROSOFT_TENANT",
        ),
        (
            {"TRACKER_OIDC_GOOGLE_METADATA_URL": "http://idp.example/.well-known/openid-configuration"},
            "TRACKER_OIDC_GOOGLE_METADATA_URL",
        ),
    ],
)
def test_impossible_provider_settings_stop_the_app(clean_env, tmp_path, settings, named):
    for name, value in settings.items():
        clean_env.setenv(name, value)
    with pytest.raises(ConfigError, match=named):
        _config(tmp_path)
