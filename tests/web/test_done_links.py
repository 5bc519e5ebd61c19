"""One-click "Marquer comme fait" links from reminder mails: signed, expiring, single purpose."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest

from syncsvc.core import links
from tests.web.conftest import NOW, SECRET, SESSION_ID, Served

MILESTONE = "dte_order"
REFUSED = "Ce lien n'est pas valide ou a expiré."


def _url(session: str = SESSION_ID, milestone: str = MILESTONE, days: int = 30) -> str:
    """The link as the mailer builds it (same key, same function)."""
    return links.done_url("", SECRET.encode(), session, milestone, NOW + timedelta(days=days))


def test_valid_link_asks_then_marks_done(served: Served) -> None:
    url = _url()
    with served.client() as client:  # no login: the signed token is the proof
        page = client.get(url)
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "Commander le pli d'examen (DTE)" in text
        assert "Confirmer : c'est fait aujourd'hui" in text
        assert served.store.done_marks() == {}  # a GET (a mail scanner) changes nothing
        assert served.marked == []
        token = url.partition("?t=")[2]
        done = client.post(url.partition("?")[0], data={"t": token})
        assert done.status_code == 200
        assert "C'est noté" in html.unescape(done.text)
        assert "marqué fait le 08/02/2027" in html.unescape(done.text)
        again = client.get(url)
        assert "Déjà fait" in html.unescape(again.text)
    assert served.store.done_marks() == {SESSION_ID: {MILESTONE: date(2027, 2, 8)}}
    assert served.marked == ["marque"]  # the calendars are updated at once
    with served.store.begin() as db:
        by = db.exec_driver_sql("SELECT by FROM done_marks").scalar()
    assert by == "lien e-mail"


def test_a_second_click_keeps_the_first_mark(served: Served) -> None:
    url = _url()
    token = url.partition("?t=")[2]
    with served.client() as client:
        client.post(url, data={"t": token})
        served.clock.now = NOW + timedelta(days=2)
        assert "Déjà fait" in html.unescape(client.post(url, data={"t": token}).text)
    assert served.store.done_marks()[SESSION_ID][MILESTONE] == date(2027, 2, 8)


def _tampered() -> list[str]:
    url = _url()
    path, _, token = url.partition("?t=")
    stamp, _, signature = token.partition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return [
        f"{path}?t={stamp}.{flipped}",  # signature changed
        f"{path}?t={int(stamp) + 86400}.{signature}",  # expiry pushed back
        url.replace(MILESTONE, "ud_session_declaration"),  # another milestone, same token
        url.replace(SESSION_ID, "ccp-ac-2027-05-st-andre"),  # another session
        path,  # no token
        f"{path}?t=",
        f"{path}?t=n'importe-quoi",
        _url(milestone="pas_un_jalon"),  # signed, but for nothing that exists
    ]


@pytest.mark.parametrize("url", _tampered())
def test_tampered_links_are_refused_and_reveal_nothing(served: Served, url: str) -> None:
    with served.client() as client:
        page = client.get(url)
        token = url.partition("?t=")[2]
        posted = client.post(url.partition("?")[0], data={"t": token})
    for response in (page, posted):
        assert response.status_code == 403
        text = html.unescape(response.text)
        assert REFUSED in text
        assert "pli" not in text.lower()
        assert SESSION_ID not in text
    assert served.store.done_marks() == {}


def test_expired_link_is_refused(served: Served) -> None:
    url = _url(days=30)
    served.clock.now = NOW + timedelta(days=30)
    with served.client() as client:
        assert client.get(url).status_code == 403
        token = url.partition("?t=")[2]
        assert client.post(url, data={"t": token}).status_code == 403
    assert served.store.done_marks() == {}


def test_a_link_signed_with_another_key_is_refused(served: Served) -> None:
    url = links.done_url("", b"une autre cle", SESSION_ID, MILESTONE, NOW + timedelta(days=3))
    with served.client() as client:
        assert client.get(url).status_code == 403


def test_no_link_can_mark_a_centre_s_yearly_milestone(served: Served) -> None:
    """The annual programming is one per centre and year, on no session's page: a link signed
    for it, by a session of the centre or by the centre year's owner key, is refused. That is
    why the mails of the day give none for it (« syncsvc done <session> annual_programming »
    marks it, for every session of that centre and year)."""
    owner = "centre:afpar-st-andre:2027"
    urls = [_url(SESSION_ID, "annual_programming"), _url(owner, "annual_programming")]
    with served.client() as client:
        for url in urls:
            token = url.partition("?t=")[2]
            assert client.get(url).status_code == 403
            assert client.post(url.partition("?")[0], data={"t": token}).status_code == 403
    assert served.store.done_marks() == {}


def _malformed() -> list[str]:
    """Tokens that are not ``<digits>.<base64url>``: each crashed ``links.verify`` (500)."""
    url = _url()
    path, _, token = url.partition("?t=")
    stamp, _, signature = token.partition(".")
    return [
        f"{path}?t=².{signature}",  # a Unicode digit: str.isdigit() but not int()-able…
        f"{path}?t=١٢٣.{signature}",  # … or int()-able but not ASCII
        f"{path}?t={stamp}.é",  # a non-ASCII signature: hmac.compare_digest raised TypeError
        f"{path}?t={stamp}.{signature}é",
        f"{path}?t={'9' * 40}.{signature}",  # an expiry no datetime can hold
        f"{path}?t={stamp}.{signature}.{signature}",
        f"{path}?t=.{signature}",
        f"{path}?t={stamp}.",
    ]


@pytest.mark.parametrize("url", _malformed())
def test_malformed_tokens_are_a_403_like_a_bad_signature(served: Served, url: str) -> None:
    with served.client() as client:
        page = client.get(url)
        token = url.partition("?t=")[2]
        posted = client.post(url.partition("?")[0], data={"t": token})
    for response in (page, posted):
        assert response.status_code == 403
        assert REFUSED in html.unescape(response.text)
    assert served.store.done_marks() == {}


@pytest.mark.parametrize(
    "token", ["².abc", "1.é", "١.abc", "9" * 400 + ".abc", "1.abc.def", "", ".", "1.", "x.y"]
)
def test_verify_says_false_for_any_malformed_token(token: str) -> None:
    assert not links.verify(SECRET.encode(), SESSION_ID, MILESTONE, token, NOW)


def test_a_signed_token_with_an_absurd_expiry_is_refused() -> None:
    """Even correctly signed, an expiry beyond any datetime is refused, not a crash."""
    stamp = 10**30
    token = f"{stamp}.{links._signature(SECRET.encode(), SESSION_ID, MILESTONE, stamp)}"
    assert not links.verify(SECRET.encode(), SESSION_ID, MILESTONE, token, NOW)
