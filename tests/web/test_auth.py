"""Logging in and out, password hashes, the session cookie, CSRF, the reverse-proxy header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from syncsvc.inputs.settings import WebUser
from syncsvc.web import auth
from syncsvc.web.passwords import LoginGuard
from tests.web.conftest import (
    NAME,
    NOW,
    OTHER,
    OTHER_PASSWORD,
    PASSWORD,
    SECRET,
    SECRET_ENV,
    SESSION_ID,
    USER,
    Served,
    csrf_of,
    serve,
    web_settings,
)

WRONG = "Identifiant ou mot de passe incorrect"
DONE_PATH = f"/sessions/{SESSION_ID}/milestones/dte_order/done"


# --- password hashes -------------------------------------------------------------------------


def test_hash_format_and_verification() -> None:
    encoded = auth.hash_password("correct horse", n=2**10)
    scheme, n, r, p, salt, digest = encoded.split("$")
    assert (scheme, n, r, p) == ("scrypt", "1024", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(digest)) == 32
    assert auth.verify_password("correct horse", encoded)
    assert not auth.verify_password("correct horse ", encoded)
    assert auth.hash_password("correct horse", n=2**10) != encoded  # salted


def test_default_cost_is_the_documented_one() -> None:
    """OWASP's current guidance for scrypt: N=2^17, r=8, p=1 (was N=2^14)."""
    assert (
        auth.DEFAULT_COST.work,
        auth.DEFAULT_COST.block_size,
        auth.DEFAULT_COST.parallelism,
    ) == (2**17, 8, 1)
    encoded = auth.hash_password("x")
    assert encoded.startswith("scrypt$131072$8$1$")
    assert auth.verify_password("x", encoded)
    assert LoginGuard().cost == auth.DEFAULT_COST  # what create_app uses unless told otherwise


def test_hashes_of_the_old_default_cost_still_verify() -> None:
    old = auth.hash_password("correct horse", n=2**14)
    assert auth.verify_password("correct horse", old)
    assert auth.cost_of(old) == auth.Cost(2**14, 8, 1)
    assert auth.Cost(2**14, 8, 1).below(auth.DEFAULT_COST)
    assert auth.Cost(2**18, 4, 1).below(auth.DEFAULT_COST)
    assert not auth.Cost(2**18, 8, 1).below(auth.DEFAULT_COST)
    assert auth.cost_of("pas une empreinte") is None


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "bcrypt$2$8$1$c2FsdA==$aGFzaA==",
        "scrypt$1024$8$1$not-base64!$aGFzaA==",
        "scrypt$1000$8$1$c2FsdHNhbHRzYWx0c2FsdA==$" + "A" * 44,  # N not a power of two
        "scrypt$1073741824$8$1$c2FsdHNhbHRzYWx0c2FsdA==$" + "A" * 44,  # absurd cost
        "scrypt$1024$8$1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaA==",  # digest too short
        "scrypt$1024$8$1",
    ],
)
def test_malformed_hashes_never_verify(encoded: str) -> None:
    assert not auth.verify_password("anything", encoded)


def test_empty_password_is_refused() -> None:
    with pytest.raises(ValueError, match="vide"):
        auth.hash_password("")


def test_unknown_login_and_wrong_password_look_alike() -> None:
    users = [WebUser(login="a", password_hash=auth.hash_password("pw", n=2**10))]
    assert auth.authenticate(users, "a", "pw") == auth.User("a", "a")
    assert auth.authenticate(users, "a", "nope") is None
    assert auth.authenticate(users, "b", "pw") is None


# --- the session cookie ----------------------------------------------------------------------


def test_cookie_round_trip_tamper_and_expiry() -> None:
    key = auth.derive_key(b"secret", "session-cookie")
    session = auth.new_session("coordination", NOW)
    cookie = auth.encode_session(key, session)
    assert auth.decode_session(key, cookie, NOW) == session
    assert auth.decode_session(key, cookie, NOW + auth.SESSION_LIFETIME) == session
    assert auth.decode_session(key, cookie, NOW + auth.SESSION_LIFETIME + timedelta(1)) is None
    assert auth.decode_session(auth.derive_key(b"other", "session-cookie"), cookie, NOW) is None
    payload, signature = cookie.split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["u"] = "direction"
    body = base64.urlsafe_b64encode(json.dumps(forged).encode()).decode().rstrip("=")
    assert auth.decode_session(key, f"{body}.{signature}", NOW) is None
    for junk in ("", ".", "a.b.c", "é.é", cookie + "x"):
        assert auth.decode_session(key, junk, NOW) is None


# --- over HTTP -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", f"/sessions/{SESSION_ID}", "/outbox", "/targets", "/logout"])
def test_pages_require_login(served: Served, path: str) -> None:
    with served.client() as client:
        response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_post_without_login_goes_to_the_login_form(served: Served) -> None:
    with served.client() as client:
        response = client.post(DONE_PATH, data={"csrf": "x"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert served.store.done_marks() == {}


def test_login_redirects_back_and_sets_a_safe_cookie(served: Served) -> None:
    with served.client() as client:
        first = client.get("/outbox")
        assert first.headers["location"] == "/login?next=%2Foutbox"
        form = client.get(first.headers["location"])
        assert form.status_code == 200
        assert 'name="next" value="/outbox"' in form.text
        response = client.post(
            "/login",
            data={
                "login": USER,
                "password": PASSWORD,
                "csrf": csrf_of(form.text),
                "next": "/outbox",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/outbox"
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" not in cookie  # plain http here; set when the request is https
        page = client.get("/outbox")
        assert page.status_code == 200
        assert NAME in page.text
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    ("login", "password"),
    [(USER, "mauvais"), ("inconnu", PASSWORD), (USER, ""), (OTHER, PASSWORD)],
)
def test_wrong_credentials_say_the_same_thing(served: Served, login: str, password: str) -> None:
    with served.client() as client:
        form = client.get("/login")
        response = client.post(
            "/login",
            data={"login": login, "password": password, "csrf": csrf_of(form.text)},
        )
        assert response.status_code == 200
        assert WRONG in response.text
        assert "set-cookie" not in response.headers
        assert client.get("/").status_code == 303  # still not logged in


def test_a_user_without_a_name_is_shown_by_login(served: Served) -> None:
    with served.client() as client:
        served.login(client, OTHER, OTHER_PASSWORD)
        assert '<span class="user" title="Connecté">direction</span>' in client.get("/").text


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_login_never_redirects_to_another_site(served: Served, target: str) -> None:
    with served.client() as client:
        form = client.get("/login")
        response = client.post(
            "/login",
            data={"login": USER, "password": PASSWORD, "csrf": csrf_of(form.text), "next": target},
        )
    assert response.headers["location"] == "/"


def test_login_without_its_csrf_token_is_refused(served: Served) -> None:
    with served.client() as client:
        client.get("/login")
        response = client.post("/login", data={"login": USER, "password": PASSWORD})
        assert response.status_code == 403
        assert "Formulaire expiré" in response.text
    with served.client() as fresh:  # no cookie at all
        response = fresh.post("/login", data={"login": USER, "password": PASSWORD, "csrf": "x"})
        assert response.status_code == 403


@pytest.mark.parametrize("token", [None, "", "forged-token", "other"])
def test_post_without_a_valid_csrf_token_is_refused(served: Served, token: str | None) -> None:
    with served.logged_in() as client:
        if token == "other":  # a valid token, but of another visitor's session
            with served.client() as other:
                served.login(other)
                token = csrf_of(other.get("/").text)
        data = {"done_on": "2027-02-01", "by": "X"}
        if token is not None:
            data["csrf"] = token
        response = client.post(DONE_PATH, data=data)
        assert response.status_code == 403
        assert client.post("/outbox/1/resend", data=data).status_code == 403
        assert client.post("/logout", data=data).status_code == 403
    assert served.store.done_marks() == {}


def test_a_json_post_is_not_a_form(served: Served) -> None:
    with served.logged_in() as client:
        csrf = csrf_of(client.get("/").text)
        response = client.post(DONE_PATH, json={"csrf": csrf})
    assert response.status_code == 415
    assert served.store.done_marks() == {}


def test_logout_ends_the_session(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get("/logout")
        assert page.status_code == 200
        response = client.post("/logout", data={"csrf": csrf_of(page.text)})
        assert response.headers["location"] == "/login?sortie=1"
        assert "Vous êtes déconnecté" in client.get("/login?sortie=1").text
        assert client.get("/").status_code == 303


def test_logout_revokes_the_cookie_server_side(served: Served) -> None:
    """A copy of the cookie taken before logging out is refused afterwards (not 12 h more)."""
    with served.logged_in() as client:
        stolen = dict(client.cookies)
        page = client.get(f"/sessions/{SESSION_ID}")
        csrf = csrf_of(page.text)
        client.post("/logout", data={"csrf": csrf_of(client.get("/logout").text)})
    with served.client() as replay:
        replay.cookies.update(stolen)
        assert replay.get("/").status_code == 303
        assert replay.get("/outbox").headers["location"].startswith("/login")
        posted = replay.post(DONE_PATH, data={"csrf": csrf, "done_on": "2027-02-01"})
        assert posted.status_code == 303
        assert posted.headers["location"] == "/login"
    assert served.store.done_marks() == {}


def test_logging_out_ends_only_that_session(served: Served) -> None:
    with served.logged_in() as laptop, served.logged_in() as phone:
        laptop.post("/logout", data={"csrf": csrf_of(laptop.get("/logout").text)})
        assert laptop.get("/").status_code == 303
        assert phone.get("/").status_code == 200


def _signed_cookie(payload: dict[str, object]) -> str:
    """A cookie signed with the service's own key (what a leaked old format would give)."""
    key = auth.derive_key(SECRET.encode(), "session-cookie")
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
    return f"{body}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


@pytest.mark.parametrize("sid", [None, "inconnu", "A" * 43])
def test_a_signed_cookie_without_a_known_session_is_refused(
    served: Served, sid: str | None
) -> None:
    """The signature alone no longer makes a session: its id must be in the store."""
    payload = {"u": USER, "c": "x" * 43, "t": int(NOW.timestamp()), "s": sid}
    with served.client() as client:
        client.cookies.set(auth.COOKIE_NAME, _signed_cookie(payload))
        assert client.get("/").status_code == 303


def test_a_session_expires_in_the_store_too(served: Served) -> None:
    with served.logged_in() as client:
        assert client.get("/").status_code == 200
        served.clock.now = NOW + auth.SESSION_LIFETIME + timedelta(seconds=1)
        assert client.get("/").status_code == 303
    with served.logged_in(OTHER, OTHER_PASSWORD):
        assert served.store.web_session_count() == 1  # the expired one went at this login


def test_the_old_cookie_is_useless_after_a_restart_with_another_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "première clé")
    with serve(tmp_path) as first, first.logged_in() as client:
        cookies = dict(client.cookies)
    monkeypatch.setenv(SECRET_ENV, "seconde clé")
    with serve(tmp_path) as second, second.client() as client:
        client.cookies.update(cookies)
        assert client.get("/").status_code == 303


def test_trusted_proxy_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "clé")
    with serve(tmp_path, lambda c: web_settings(c, auth_header="X-Remote-User")) as served:
        with served.client() as client:
            assert client.get("/").status_code == 303  # no header: the login form
            headers = {"X-Remote-User": "m.payet"}
            page = client.get("/", headers=headers)
            assert page.status_code == 200
            assert "m.payet" in page.text
            assert "Se déconnecter" not in page.text
            # Actions still need the CSRF token of the cookie set with the first page.
            assert client.post(DONE_PATH, headers=headers, data={}).status_code == 403
            form = client.get(f"/sessions/{SESSION_ID}", headers=headers).text
            response = client.post(DONE_PATH, headers=headers, data={"csrf": csrf_of(form)})
            assert response.status_code == 303
        with httpx.Client(base_url=served.base) as stranger:
            response = stranger.post(DONE_PATH, headers=headers, data={"csrf": "x"})
            assert response.status_code == 403
    marks = served.store.done_marks()
    assert list(marks[SESSION_ID]) == ["dte_order"]


def test_too_many_failed_logins_are_throttled(served: Served) -> None:
    with served.client() as client:
        for _ in range(5):
            csrf = csrf_of(client.get("/login").text)
            answer = client.post("/login", data={"login": USER, "password": "faux", "csrf": csrf})
            assert answer.status_code == 200
            assert WRONG in answer.text
        csrf = csrf_of(client.get("/login").text)
        blocked = client.post("/login", data={"login": USER, "password": PASSWORD, "csrf": csrf})
        assert blocked.status_code == 429
        assert "Trop de tentatives" in blocked.text
        served.clock.now += timedelta(minutes=16)  # the window has passed
        csrf = csrf_of(client.get("/login").text)
        ok = client.post("/login", data={"login": USER, "password": PASSWORD, "csrf": csrf})
        assert ok.status_code == 303
