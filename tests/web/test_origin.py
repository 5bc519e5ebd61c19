"""Every POST checks where it comes from (Sec-Fetch-Site, Origin, Referer) on top of its CSRF
token; ``[web] secure_cookies`` forces or drops the cookie's Secure flag."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from syncsvc.core import links
from syncsvc.inputs.settings import WebSettings
from tests.web.conftest import (
    NOW,
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

DONE_PATH = f"/sessions/{SESSION_ID}/milestones/dte_order/done"
FOREIGN: list[dict[str, str]] = [
    {"Origin": "https://evil.example"},
    {"Origin": "http://127.0.0.1:1"},  # same host, another port: another origin
    {"Referer": "https://evil.example/page"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": "null"},  # a sandboxed frame elsewhere
]


def _mark(client: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    csrf = csrf_of(client.get(f"/sessions/{SESSION_ID}").text)
    return client.post(DONE_PATH, headers=headers, data={"csrf": csrf, "done_on": "2027-02-01"})


@pytest.mark.parametrize("headers", FOREIGN)
def test_a_post_from_another_site_is_refused_even_with_the_right_token(
    served: Served, headers: dict[str, str]
) -> None:
    with served.logged_in() as client:
        response = _mark(client, headers)
        assert response.status_code == 403
        assert "ne vient pas de ce site" in response.text
        logout = client.post(
            "/logout", headers=headers, data={"csrf": csrf_of(client.get("/logout").text)}
        )
        assert logout.status_code == 403
        assert client.get("/").status_code == 200  # still logged in
    with served.client() as client:
        csrf = csrf_of(client.get("/login").text)
        login = client.post(
            "/login", headers=headers, data={"login": USER, "password": PASSWORD, "csrf": csrf}
        )
        assert login.status_code == 403
    assert served.store.done_marks() == {}


def _own(served: Served) -> list[dict[str, str]]:
    return [
        {},  # no header at all (not a browser): the CSRF token decides
        {"Origin": served.base},
        {"Referer": f"{served.base}/sessions/{SESSION_ID}"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},  # what Chromium sends here
        {"Origin": served.base, "Sec-Fetch-Site": "same-origin"},
        {"Origin": "https://examens.example.org"},  # the configured dashboard_url
    ]


@pytest.mark.parametrize("index", range(6))
def test_a_post_from_this_site_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, index: int
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)

    def settings(config: Path) -> Any:
        return web_settings(config).model_copy(
            update={"dashboard_url": "https://examens.example.org/"}
        )

    with serve(tmp_path, settings) as served, served.logged_in() as client:
        assert _mark(client, _own(served)[index]).status_code == 303
    assert SESSION_ID in served.store.done_marks()


def test_a_done_link_posted_from_another_site_is_refused(served: Served) -> None:
    url = links.done_url("", SECRET.encode(), SESSION_ID, "dte_order", NOW + timedelta(days=3))
    token = url.partition("?t=")[2]
    with served.client() as client:
        refused = client.post(url, headers={"Origin": "https://evil.example"}, data={"t": token})
        assert refused.status_code == 403
        assert served.store.done_marks() == {}
        accepted = client.post(url, headers={"Sec-Fetch-Site": "same-origin"}, data={"t": token})
        assert accepted.status_code == 200
    assert SESSION_ID in served.store.done_marks()


def _first_cookie(served: Served, headers: dict[str, str] | None = None) -> str:
    """The cookie set with the login form (the same function sets it after login)."""
    with served.client() as client:
        response = client.get("/login", headers=headers)
    return response.headers["set-cookie"].lower()


@pytest.mark.parametrize(
    ("setting", "https", "secure"),
    [
        (True, False, True),
        (False, True, False),
        ("auto", False, False),
        ("auto", True, True),
    ],
)
def test_secure_cookies_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: bool | str, https: bool, secure: bool
) -> None:
    """``https`` = behind a TLS proxy on this machine (uvicorn trusts its X-Forwarded-Proto)."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    headers = {"X-Forwarded-Proto": "https"} if https else None
    with serve(tmp_path, lambda c: web_settings(c, secure_cookies=setting)) as served:
        cookie = _first_cookie(served, headers)
    assert ("; secure" in cookie) is secure


def test_secure_cookies_default_and_bad_values() -> None:
    assert WebSettings().secure_cookies == "auto"
    assert WebSettings.model_validate({"secure_cookies": True}).secure_cookies is True
    for bad in ("oui", "yes", 1, "Auto "):
        with pytest.raises(ValidationError):
            WebSettings.model_validate({"secure_cookies": bad})
