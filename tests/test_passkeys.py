"""Passkeys (WebAuthn) as a second factor: adding, removing, signing in and stepping up with one.

A software authenticator (an EC P-256 key from `cryptography`, "none" attestation) makes real registration and
assertion responses, so py_webauthn's verification runs for real: a bad signature, another challenge, another
origin or a counter that went backwards are refused (4xx) and audited."""

import hashlib
import json
import os
import struct

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url

from tracker.audit import AuditEvent
from tracker.auth import recovery_codes, second_factor
from tracker.auth.models import LoginSession
from tracker.auth.passkeys import Passkey
from tracker.extensions import db

from .conftest import login

ORIGIN = "http://tracker.test"  # the tests' SERVER_NAME: the RP id is its host
RP_ID = "tracker.test"


class SoftAuthenticator:
    """A security key in software: makes the bytes a browser's navigator.credentials would return."""

    def __init__(self, origin=ORIGIN, rp_id=RP_ID, counts=True):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.counter = 0
        self.counts = counts  # many passkeys keep no signature counter: always 0
        self.origin, self.rp_id = origin, rp_id

    @property
    def id(self):
        return bytes_to_base64url(self.credential_id)

    def _cose_key(self):
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )

    def _client_data(self, kind, challenge, origin=None):
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": origin or self.origin, "crossOrigin": False}
        ).encode()

    def _auth_data(self, flags, extra=b""):
        return (
            hashlib.sha256(self.rp_id.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", self.counter)
            + extra
        )

    def register(self, options, origin=None):
        """The registration response to `options` (the JSON the server sent)."""
        self.counter += self.counts
        attested = (
            bytes(16) + struct.pack(">H", len(self.credential_id)) + self.credential_id + self._cose_key()
        )
        auth_data = self._auth_data(0x01 | 0x04 | 0x40, attested)  # user present, verified, attested data
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(
                    self._client_data("webauthn.create", options["challenge"], origin)
                ),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["usb", "nfc", "bogus"],
            },
            "clientExtensionResults": {},
        }

    def assert_(self, options, origin=None, tamper=False, counter=None):
        """The authentication response to `options`; `tamper` spoils the signature."""
        self.counter = self.counter + self.counts if counter is None else counter
        auth_data = self._auth_data(0x01 | 0x04)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        if tamper:
            signature = self.key.sign(b"something else", ec.ECDSA(hashes.SHA256()))
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": bytes_to_base64url(client_data),
                "authenticatorData": bytes_to_base64url(auth_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": None,
            },
            "clientExtensionResults": {},
        }


def events(action):
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)))


def add_passkey(client, authenticator, name="Blue key", spoil=None, next_url="/account/two-factor"):
    """Ask for the options, answer them as passkeys.js does (the form with the answer as JSON)."""
    options = client.post("/account/passkeys/options", json={})
    assert options.status_code == 200, options.get_data(as_text=True)
    answer = (spoil or (lambda a, o: a.register(o)))(authenticator, options.get_json())
    return client.post(
        "/account/passkeys", data={"passkey_name": name, "credential": json.dumps(answer), "next": next_url}
    )


@pytest.fixture
def member(make_school, make_member):
    return make_member(make_school(), "staff").user


@pytest.fixture
def enrolled(client, login_as, member):
    """A member with a passkey, signed out again; returns (user, authenticator)."""
    login_as(member)
    authenticator = SoftAuthenticator()
    assert add_passkey(client, authenticator).status_code == 200  # the first one: with recovery codes
    client.post("/logout")
    return member, authenticator


def pending(client, user):
    """Sign in with the password: the passkey challenge is next."""
    response = login(client, user.email)
    assert response.status_code == 302
    assert client.get("/account").status_code == 302  # no session until the second factor
    return client.post("/login/passkey/options", json={}).get_json()


def test_a_member_adds_a_passkey_which_is_stored_listed_and_audited(client, login_as, member):
    login_as(member)
    authenticator = SoftAuthenticator()
    response = add_passkey(client, authenticator, name="  Work   laptop ")
    # the first second factor comes with recovery codes, shown once
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Save your recovery codes" in page and "Passkey “Work laptop” added" in page
    assert recovery_codes.remaining(member) == 10
    [key] = db.session.scalars(db.select(Passkey).where(Passkey.user_id == member.id))
    assert (key.name, key.credential_id, key.transports, key.sign_count) == (
        "Work laptop",
        authenticator.id,
        "nfc,usb",
        1,
    )
    assert "passkey" in second_factor.enrolled_methods(member)
    [event] = events("auth.passkey_added")
    assert event.after["name"] == "Work laptop" and event.actor_id == member.id
    # a second one goes back to the page; the same authenticator cannot be added twice
    second = add_passkey(client, SoftAuthenticator(), name="Spare key")
    assert second.status_code == 302 and second.headers["Location"] == "/account/two-factor"
    assert recovery_codes.remaining(member) == 10
    again = add_passkey(client, authenticator, name="Again")
    assert again.status_code == 400 and "already on an account" in again.get_data(as_text=True)
    assert len(events("auth.passkey_added")) == 2


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda a, o: a.register(o, origin="https://evil.example"), "could not be checked"),
        (lambda a, o: a.register({"challenge": bytes_to_base64url(b"x" * 32)}), "could not be checked"),
        (lambda a, o: {"id": "x", "response": {"clientDataJSON": 5}}, "could not be checked"),
        (lambda a, o: "not an object", "not understood"),
    ],
    ids=["other origin", "other challenge", "malformed", "not an object"],
)
def test_a_registration_that_does_not_verify_adds_nothing(client, login_as, member, spoil, message):
    login_as(member)
    response = add_passkey(client, SoftAuthenticator(), name="My key", spoil=spoil)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and 'value="My key"' in page  # the page again, with the name typed
    assert db.session.scalar(db.select(db.func.count()).select_from(Passkey)) == 0
    assert events("auth.passkey_added") == []


def test_a_registration_needs_a_name_and_its_own_fresh_challenge(client, login_as, member):
    login_as(member)
    authenticator = SoftAuthenticator()
    options = client.post("/account/passkeys/options", json={}).get_json()
    answer = json.dumps(authenticator.register(options))
    unnamed = client.post("/account/passkeys", data={"passkey_name": "  ", "credential": answer})
    assert unnamed.status_code == 400 and "Give the passkey a name" in unnamed.get_data(as_text=True)
    # no options asked for (or used up already): refused without a server error
    replay = client.post("/account/passkeys", data={"passkey_name": "Key", "credential": answer})
    assert replay.status_code == 400 and "too old or was already used" in replay.get_data(as_text=True)
    client.post("/account/passkeys/options", json={})
    for bad in ("x", "[" * 100_000, ""):
        response = client.post("/account/passkeys", data={"passkey_name": "Key", "credential": bad})
        assert response.status_code == 400
    assert events("auth.passkey_added") == []


def test_signing_in_with_a_passkey_opens_the_session_and_moves_the_counter(client, enrolled):
    user, authenticator = enrolled
    options = pending(client, user)
    assert [c["id"] for c in options["allowCredentials"]] == [authenticator.id]
    assert options["rpId"] == RP_ID
    response = client.post("/login/passkey", json={"credential": authenticator.assert_(options, counter=7)})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["redirect"]
    assert client.get("/account").status_code == 200  # signed in
    key = db.session.scalar(db.select(Passkey).where(Passkey.user_id == user.id))
    assert key.sign_count == 7 and key.last_used_at is not None
    [used] = events("auth.passkey_used")
    assert used.after["purpose"] == "sign-in" and used.actor_id == user.id


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda a, o: a.assert_(o, tamper=True), "could not be checked"),
        (lambda a, o: a.assert_({"challenge": bytes_to_base64url(b"y" * 32)}), "could not be checked"),
        (lambda a, o: a.assert_(o, origin="https://evil.example"), "could not be checked"),
        (lambda a, o: a.assert_(o, counter=0), "looks copied"),
        (lambda a, o: SoftAuthenticator().assert_(o), "not on this account"),
    ],
    ids=["bad signature", "other challenge", "other origin", "counter went backwards", "unknown key"],
)
def test_a_passkey_answer_that_does_not_verify_is_refused_and_audited(client, enrolled, spoil, message):
    user, authenticator = enrolled
    options = pending(client, user)
    response = client.post("/login/passkey", json={"credential": spoil(authenticator, options)})
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert client.get("/account").status_code == 302  # still not signed in
    [failed] = events("auth.passkey_failed")
    assert failed.after["purpose"] == "sign-in" and failed.actor_id == user.id
    assert events("auth.passkey_used") == []
    # each challenge is answered once: even the right answer to it is now refused
    again = client.post("/login/passkey", json={"credential": authenticator.assert_(options)})
    assert again.status_code == 400 and "too old or was already used" in again.get_json()["error"]


def test_the_sign_in_endpoints_need_a_pending_sign_in(client, enrolled):
    _, authenticator = enrolled
    for url in ("/login/passkey/options", "/login/passkey"):
        response = client.post(url, json={"credential": authenticator.assert_({"challenge": "AAAA"})})
        assert response.status_code == 400
        assert response.get_json()["redirect"] == "/login"
    assert events("auth.passkey_failed") == []


def test_repeated_failed_passkey_attempts_are_throttled_like_passwords(app, client, enrolled):
    user, authenticator = enrolled
    allowed = int(app.config["TRACKER_LOGIN_LIMIT_ACCOUNT"].split()[0])
    options = pending(client, user)
    for _ in range(allowed):
        client.post("/login/passkey/options", json={})
        assert client.post("/login/passkey", json={"credential": "nonsense"}).status_code == 400
    options = client.post("/login/passkey/options", json={}).get_json()
    response = client.post("/login/passkey", json={"credential": authenticator.assert_(options)})
    assert response.status_code == 429
    assert client.get("/account").status_code == 302


def test_a_member_removes_their_own_passkey_but_not_anyone_elses(client, login_as, enrolled, make_user):
    user, _ = enrolled
    key_id = db.session.scalar(db.select(Passkey.id).where(Passkey.user_id == user.id))
    other = make_user()
    login_as(other)
    response = client.post(f"/account/passkeys/{key_id}/remove", data={"next": "/account"})
    assert response.status_code == 302 and response.headers["Location"] == "/account"
    assert "not on your account" in client.get("/account").get_data(as_text=True)
    assert db.session.get(Passkey, key_id) is not None
    assert events("auth.passkey_removed") == []
    client.post("/logout")

    options = pending(client, user)
    client.post("/login/passkey", json={"credential": enrolled[1].assert_(options)})
    # removing a passkey asks to confirm it's you when the last confirmation is old
    db.session.execute(
        db.update(LoginSession).where(LoginSession.user_id == user.id).values(confirmed_at=None)
    )
    db.session.commit()
    response = client.post(f"/account/passkeys/{key_id}/remove", data={"next": "/account/two-factor"})
    assert response.status_code == 302 and "/account/confirm" in response.headers["Location"]
    assert db.session.get(Passkey, key_id) is not None
    options = client.post("/account/confirm/passkey/options", json={}).get_json()
    assert (
        client.post("/account/confirm/passkey", json={"credential": enrolled[1].assert_(options)}).status_code
        == 200
    )
    response = client.post(f"/account/passkeys/{key_id}/remove", data={"next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/account/two-factor"
    db.session.expire_all()
    assert db.session.get(Passkey, key_id) is None
    [removed] = events("auth.passkey_removed")
    assert removed.before["name"] == "Blue key"
    assert "passkey" not in second_factor.enrolled_methods(user)


def test_a_step_up_with_a_passkey_confirms_and_goes_on_to_a_page_of_this_site(client, enrolled):
    user, authenticator = enrolled
    options = pending(client, user)
    client.post("/login/passkey", json={"credential": authenticator.assert_(options)})
    for next_url, expected in (("/account/sessions", "/account/sessions"), ("https://evil.example/", "/")):
        options = client.post("/account/confirm/passkey/options", json={}).get_json()
        response = client.post(
            "/account/confirm/passkey", json={"credential": authenticator.assert_(options), "next": next_url}
        )
        assert response.status_code == 200
        assert response.get_json()["redirect"] == expected
    purposes = [e.after["purpose"] for e in events("auth.passkey_used")]
    assert purposes == ["sign-in", "step-up", "step-up"]
    assert [e.after["method"] for e in events("auth.step_up")] == ["passkey", "passkey"]


def test_a_lead_resetting_the_second_factor_deletes_the_passkeys(client, enrolled):
    user, _ = enrolled
    assert second_factor.reset_second_factor(user) == ["passkey"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Passkey)) == 0


def test_the_only_second_factor_of_a_member_whose_school_requires_one_cannot_be_removed(
    client, make_school, make_member
):
    school = make_school(require_two_factor=True)
    lead = make_member(school, "lead").user
    login(client, lead.email)  # no second factor yet: signed in, sent to enrolment
    home = f"/s/{school.slug}/"
    enrolment = client.get(f"/account/two-factor/app?next={home}")
    assert enrolment.status_code == 200  # the enrolment page offers a passkey, which leads on to the school
    assert f'name="next" value="{home}"' in enrolment.get_data(as_text=True)
    authenticator = SoftAuthenticator()
    codes = add_passkey(client, authenticator, next_url=home)
    assert codes.status_code == 200 and f'href="{home}"' in codes.get_data(as_text=True)
    assert client.get(home).status_code == 200  # the gate lets them in now
    client.post("/logout")
    options = pending(client, lead)
    assert (
        client.post("/login/passkey", json={"credential": authenticator.assert_(options)}).status_code == 200
    )
    key_id = db.session.scalar(db.select(Passkey.id).where(Passkey.user_id == lead.id))
    response = client.post(f"/account/passkeys/{key_id}/remove", data={"next": "/account/two-factor"})
    assert response.status_code == 302
    assert db.session.get(Passkey, key_id) is not None
    assert events("auth.passkey_removed") == []
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "your only second factor" in page


def test_the_pages_list_the_passkeys_and_offer_one_only_to_those_who_have_one(client, login_as, enrolled):
    user, authenticator = enrolled
    # the challenge of someone with a passkey offers it
    pending(client, user)
    challenge = client.get("/login/two-factor").get_data(as_text=True)
    assert 'data-passkey="authenticate"' in challenge and "/login/passkey/options" in challenge
    options = client.post("/login/passkey/options", json={}).get_json()
    client.post("/login/passkey", json={"credential": authenticator.assert_(options)})
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "Blue key" in page and "Not used yet" not in page and "Remove<span" in page
    assert 'data-passkey="register"' in page and 'aria-live="polite"' in page
    confirm = client.get("/account/confirm?next=/account/sessions").get_data(as_text=True)
    assert "/account/confirm/passkey/options" in confirm and 'data-next="/account/sessions"' in confirm
    client.post("/logout")


def test_a_member_without_a_passkey_sees_the_empty_state_and_no_passkey_step(client, login_as, member):
    login_as(member)
    page = client.get("/account/two-factor").get_data(as_text=True)
    assert "You have no passkey or security key yet" in page and 'data-passkey="register"' in page
    confirm = client.get("/account/confirm").get_data(as_text=True)
    assert 'data-passkey="authenticate"' not in confirm


def test_a_replayed_answer_with_the_session_cookie_from_before_is_refused(client, login_as, member):
    """The challenge sits in the browser's own session cookie: the cookie from before the answer, sent again
    with the same answer, is refused even for a passkey that keeps no counter."""
    login_as(member)
    authenticator = SoftAuthenticator(counts=False)
    assert add_passkey(client, authenticator).status_code == 200
    client.post("/logout")
    options = pending(client, member)
    before = client.get_cookie("session", domain="tracker.test").value
    answer = authenticator.assert_(options)
    assert client.post("/login/passkey", json={"credential": answer}).status_code == 200
    client.post("/logout")
    client.set_cookie("session", before, domain="tracker.test")
    replay = client.post("/login/passkey", json={"credential": answer})
    assert replay.status_code == 400 and "too old or was already used" in replay.get_json()["error"]
    assert client.get("/account").status_code == 302
    [failed] = events("auth.passkey_failed")
    assert "replay" in failed.after["reason"]
