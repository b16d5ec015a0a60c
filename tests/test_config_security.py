"""Safe settings and response headers: production refuses to start without a secret, cookies are locked
down, and every page carries a strict CSP, anti-framing, no-sniff and referrer headers."""

import re
from urllib.parse import urlsplit

import pytest

from tracker import create_app
from tracker.config import ConfigError
from tracker.extensions import limiter

from .conftest import login


@pytest.fixture
def restore_limiter(app):
    """create_app() re-initialises the shared limiter; point it back at the test app's storage afterwards."""
    yield
    limiter.init_app(app)


def production_config(tmp_path, **overrides):
    return {
        "TRACKER_ENV": "production",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        "SERVER_NAME": "tracker.test",
        "RATELIMIT_STORAGE_URI": "memory://",
        "TRACKER_AUDIT_KEY": "k" * 64,
        "TRACKER_BASE_URL": "https://tracker.test",
        **overrides,
    }


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch, restore_limiter):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="TRACKER_SECRET_KEY"):
        create_app(production_config(tmp_path, SECRET_KEY=None))
    monkeypatch.setenv("TRACKER_SECRET_KEY", "")
    with pytest.raises(ConfigError):
        create_app(production_config(tmp_path, SECRET_KEY=None))
    # it did not quietly make one up and keep it in the instance folder either
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_starts_with_a_secret_key_from_the_environment(tmp_path, monkeypatch, restore_limiter):
    monkeypatch.setenv("TRACKER_SECRET_KEY", "s" * 64)
    prod = create_app(production_config(tmp_path))
    assert prod.config["SECRET_KEY"] == "s" * 64


def test_development_keeps_a_generated_secret_in_the_instance_folder(tmp_path, monkeypatch, restore_limiter):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    monkeypatch.delenv("TRACKER_ENV", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    second = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only


def _set_cookies(response):
    return {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}


def _flags(set_cookie):
    return {part.strip().split("=", 1)[0].lower(): part.strip() for part in set_cookie.split(";")[1:]}


def test_production_cookies_are_secure_httponly_and_lax(tmp_path, monkeypatch, restore_limiter):
    monkeypatch.delenv("TRACKER_SECRET_KEY", raising=False)
    prod = create_app(production_config(tmp_path, SECRET_KEY="p" * 64))
    for key in (
        "SESSION_COOKIE_SECURE",
        "REMEMBER_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "REMEMBER_COOKIE_HTTPONLY",
    ):
        assert prod.config[key] is True, key
    assert prod.config["SESSION_COOKIE_SAMESITE"] == prod.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    response = prod.test_client().get("/login", base_url="https://tracker.test")
    assert response.status_code == 200
    session_cookie = _set_cookies(response)["session"]
    flags = _flags(session_cookie)
    assert "secure" in flags and "httponly" in flags
    assert flags["samesite"].lower() == "samesite=lax"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_development_cookies_are_not_marked_secure(app):
    """The flag follows the environment (plain http on a laptop still works)."""
    assert app.config["TRACKER_ENV"] != "production"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_the_session_and_remember_cookies_are_httponly_and_samesite_lax(client, make_school, make_member):
    school = make_school()
    member = make_member(school, "staff")
    response = login(client, member.user.email, remember=True)
    assert response.status_code == 302
    cookies = _set_cookies(response)
    for name in ("session", "remember_token"):
        flags = _flags(cookies[name])
        assert "httponly" in flags, name
        assert flags.get("samesite", "").lower() == "samesite=lax", name


# --- headers on every page ---------------------------------------------------------------------------------


def _directives(csp):
    directives = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def assert_safe_headers(response, where):
    csp = response.headers.get("Content-Security-Policy")
    assert csp, f"{where}: no CSP"
    directives = _directives(csp)
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None, f"{where}: CSP does not restrict scripts"
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, where
    assert "*" not in script_src, where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert directives.get("object-src") == ["'none'"], where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") in (
        "same-origin",
        "no-referrer",
        "strict-origin",
        "strict-origin-when-cross-origin",
    ), where


def _page_urls(app, school):
    """Every GET page of the app that needs no object id: school pages for `school`, and global pages."""
    from flask import url_for

    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static":
                continue
            if set(rule.arguments) - {"school"}:
                continue
            urls.append(
                url_for(rule.endpoint, **({"school": school.slug} if "school" in rule.arguments else {}))
            )
    return sorted(set(urls))


def _html(response):
    return response.mimetype == "text/html"


def test_every_page_for_a_signed_in_lead_has_the_security_headers_and_is_not_cached(
    app, make_school, make_member
):
    school = make_school()
    lead = make_member(school, "lead")
    lead.user.is_platform_admin = True  # so the admin pages render too
    from tracker.extensions import db

    db.session.commit()
    browser = app.test_client()
    assert login(browser, lead.user.email).status_code == 302
    urls = _page_urls(app, school) + ["/s/no-such-school/", f"/s/{school.slug}/audit?page=abc", "/nowhere"]
    checked = 0
    for url in urls:
        response = browser.get(url)
        assert response.status_code < 500, url
        if not _html(response):
            continue
        assert_safe_headers(response, url)
        assert "no-store" in response.headers.get("Cache-Control", ""), url
        checked += 1
    assert checked >= 10, f"only {checked} HTML pages checked"
    # a GET of a POST-only address is an error page with the same headers
    response = browser.get("/logout")
    assert response.status_code == 405
    assert_safe_headers(response, "GET /logout")
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_public_pages_and_error_pages_have_the_security_headers(app, make_school, make_member):
    school = make_school()
    staff = make_member(school, "staff")
    anonymous = app.test_client()
    for url in ("/login", "/password/forgot", "/invitations/nope", "/password/reset/nope", "/nowhere"):
        response = anonymous.get(url)
        assert _html(response), url
        assert_safe_headers(response, url)
    signed_in = app.test_client()
    login(signed_in, staff.user.email)
    forbidden = signed_in.get(f"/s/{school.slug}/members")
    assert forbidden.status_code == 403
    assert_safe_headers(forbidden, "403 page")
    assert "no-store" in forbidden.headers.get("Cache-Control", "")


def test_a_server_error_page_has_the_security_headers(app, client, make_school, make_member, monkeypatch):
    school = make_school()
    member = make_member(school, "staff")
    login(client, member.user.email)

    def broken():
        raise RuntimeError("boom")

    monkeypatch.setitem(app.view_functions, "picker.choose", broken)
    monkeypatch.setattr(app.logger, "exception", lambda *args, **kwargs: None)
    response = client.get("/schools")
    assert response.status_code == 500
    assert "Something went wrong" in response.get_data(as_text=True)
    assert_safe_headers(response, "500 page")
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_pages_use_no_inline_script(app, make_school, make_member):
    """The CSP forbids inline script, so the pages must not depend on any."""
    school = make_school()
    lead = make_member(school, "lead")
    browser = app.test_client()
    login(browser, lead.user.email)
    for url in (f"/s/{school.slug}/members", f"/s/{school.slug}/settings", "/account", "/login"):
        body = browser.get(url).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), url
        assert not re.search(r"\son[a-z]+\s*=", body), url  # no onclick= style handlers


def test_an_anonymous_redirect_to_sign_in_is_local(client, make_school):
    school = make_school()
    response = client.get(f"/s/{school.slug}/")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).netloc in ("", "tracker.test")
