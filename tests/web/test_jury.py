"""The jury in the dashboard: a juror's signed links, the « Jury » panel, the list's count,
recording by hand an answer given in plain words."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError

from syncsvc.core import links
from syncsvc.core.invitations import InvitationState
from syncsvc.core.jury import JurorRow, JuryReply, answers
from syncsvc.inputs.settings import Settings, WebSettings, WebUser
from syncsvc.state.store import Store
from tests.web.conftest import (
    NOW,
    OTHER,
    SECRET,
    SECRET_ENV,
    SESSION_ID,
    Served,
    csrf_of,
    serve,
    web_settings,
)

MAILLOT, FONTAINE = "c.maillot@jury.example", "p.fontaine@jury.example"
REFUSED = "Ce lien n'est pas valide ou a expiré."


def invite(store: Store, email: str, name: str, sequence: int = 0) -> None:
    """The invitation as notify leaves it: the outbox row and the state, in one transaction."""
    store.enqueue(
        key=f"invitation:{SESSION_ID}:{email}:REQUEST:{sequence}",
        kind="invitation",
        recipient=f"{name} <{email}>",
        subject="Invitation : Session d'examen TP-00374 Secrétaire assistant (TITRE)",
        message_id=f"<inv-{sequence}-{email}>",
        message=b"x",
        now=NOW - timedelta(days=3),
        session_id=SESSION_ID,
        milestone_id="exam_session",
        invitation=InvitationState(SESSION_ID, email, name, sequence, "m", "invited"),
    )


@pytest.fixture
def invited(served: Served) -> Served:
    invite(served.store, MAILLOT, "Corinne Maillot")
    invite(served.store, FONTAINE, "Patrick Fontaine")
    return served


def link(email: str, answer: str, sequence: int = 0, days: int = 30) -> str:
    key = SECRET.encode()
    expires = NOW + timedelta(days=days)
    return links.answer_url("", key, SESSION_ID, email, sequence, answer, expires)


def standing(store: Store) -> dict[str, str]:
    found = answers(store.jury_replies(), store.invitation_states())
    return {email: reply.partstat or "" for (_, email), reply in found.items()}


def test_the_link_asks_then_records_the_answer_once(invited: Served) -> None:
    url = link(MAILLOT, "accept")
    path, _, query = url.partition("?")
    token = query.partition("&t=")[2]
    with invited.client() as client:  # no login: the signed token is the proof
        page = client.get(url)
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "Confirmer : je serai présent(e)" in text
        assert "Corinne Maillot" in text
        assert invited.store.jury_replies() == []  # a GET (a mail scanner) records nothing
        form_action = html.unescape(page.text).split('action="')[1].split('"')[0]
        done = client.post(form_action, data={"t": token})
        assert done.status_code == 200
        assert "Réponse enregistrée" in html.unescape(done.text)
        client.post(form_action, data={"t": token})  # a second click
    (reply,) = invited.store.jury_replies()
    assert (reply.source, reply.partstat, reply.sequence, reply.replied_at) == (
        "link",
        "ACCEPTED",
        0,
        NOW,
    )
    assert standing(invited.store) == {MAILLOT: "ACCEPTED"}
    assert path.endswith("/jury/sa-2027-03-st-andre/0/accept")


def test_the_decline_link_changes_an_earlier_answer(invited: Served) -> None:
    with invited.client() as client:
        for answer in ("accept", "decline"):
            url = link(FONTAINE, answer)
            token = url.partition("&t=")[2]
            client.post(url, data={"t": token})
            invited.clock.now = invited.clock.now + timedelta(minutes=5)
    assert standing(invited.store) == {FONTAINE: "DECLINED"}
    assert len(invited.store.jury_replies()) == 2


@pytest.mark.parametrize(
    "url",
    [
        link(MAILLOT, "accept", days=-1),  # expired
        link(MAILLOT, "accept").replace("/accept?", "/decline?"),  # another answer
        link(MAILLOT, "accept").replace("a=c.maillot", "a=p.fontaine"),  # another juror
        link(MAILLOT, "accept").replace("/0/accept", "/1/accept"),  # another invitation
        link(MAILLOT, "accept").replace("&t=", "&t=x"),
        link("intrus@jury.example", "accept"),  # signed, but not on this jury
        "/jury/sa-2027-03-st-andre/0/accept",
        "/jury/sa-2027-03-st-andre/zero/accept?a=c.maillot@jury.example&t=1.abc",
    ],
)
def test_a_wrong_link_records_nothing(invited: Served, url: str) -> None:
    with invited.client() as client:
        page = client.get(url)
        assert page.status_code == 403
        assert REFUSED in html.unescape(page.text)
        posted = client.post(url, data={"t": url.partition("&t=")[2]})
        assert posted.status_code == 403
    assert invited.store.jury_replies() == []


def test_a_link_of_a_replaced_invitation_records_nothing(invited: Served) -> None:
    invite(invited.store, MAILLOT, "Corinne Maillot", sequence=1)  # the session changed
    url = link(MAILLOT, "accept", sequence=0)
    with invited.client() as client:
        page = client.post(url, data={"t": url.partition("&t=")[2]})
    assert page.status_code == 200
    assert "Invitation modifiée depuis" in html.unescape(page.text)
    assert invited.store.jury_replies() == []


def test_the_panel_and_the_list_show_who_answered(invited: Served) -> None:
    with invited.client() as client:
        url = link(MAILLOT, "accept")
        client.post(url, data={"t": url.partition("&t=")[2]})
    with invited.logged_in() as client:
        listing = html.unescape(client.get("/").text)
        page = client.get(f"/sessions/{SESSION_ID}")
    assert "jury : 1 confirmé / 2 invités" in listing
    text = html.unescape(page.text)
    assert "jury : 1 confirmé / 2 invités" in text
    assert 'data-email="c.maillot@jury.example" data-partstat="ACCEPTED"' in page.text
    assert 'data-email="p.fontaine@jury.example" data-partstat="NEEDS-ACTION"' in page.text
    assert "le 08/02/2027" in text
    assert "lien de l'invitation" in text
    assert "Envoyée le 05/02/2027" in text
    assert "(séquence 0)" in text


def test_a_coordinator_records_an_answer_given_in_plain_words(invited: Served) -> None:
    invited.store.record_reply(
        JuryReply(
            key="imip:texte:0",
            source="imip",
            kind="text",
            status="pending",
            session_id=SESSION_ID,
            email=FONTAINE,
            name="Patrick Fontaine",
            partstat=None,
            sequence=None,
            comment=None,
            replied_at=NOW - timedelta(hours=1),
            recorded_at=NOW,
            subject="RE: Invitation : Session d'examen",
            excerpt="Oui je serai là, sauf le jeudi après-midi.",
        )
    )
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        text = html.unescape(page.text)
        assert "Réponses en toutes lettres à traiter" in text
        assert "Oui je serai là, sauf le jeudi après-midi." in text
        pending = invited.store.jury_replies()[0]
        no_csrf = client.post(
            f"/sessions/{SESSION_ID}/jury/answer",
            data={"email": FONTAINE, "partstat": "ACCEPTED", "reply": str(pending.id)},
        )
        assert no_csrf.status_code == 403
        done = client.post(
            f"/sessions/{SESSION_ID}/jury/answer",
            data={
                "email": FONTAINE,
                "partstat": "ACCEPTED",
                "reply": str(pending.id),
                "note": "sauf jeudi après-midi",
                "csrf": csrf_of(page.text),
            },
        )
        assert done.status_code == 303
        after = html.unescape(client.get(done.headers["location"]).text)
    assert "La réponse du jury est enregistrée." in after
    assert "Réponses en toutes lettres à traiter" not in after
    assert standing(invited.store) == {FONTAINE: "ACCEPTED"}
    manual = next(r for r in invited.store.jury_replies() if r.source == "manual")
    assert (manual.by, manual.comment) == ("Nathalie Técher", "sauf jeudi après-midi")
    assert invited.store.reply_by_id(pending.id or 0).status == "handled"  # type: ignore[union-attr]


def _viewer(config: Path) -> Settings:
    settings = web_settings(config)
    users = tuple(
        WebUser(login=u.login, password_hash=u.password_hash, name=u.name, role="viewer")
        if u.login == OTHER
        else u
        for u in settings.web.users
    )
    return settings.model_copy(update={"web": WebSettings(users=users)})


@pytest.fixture
def with_viewer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, _viewer) as running:
        invite(running.store, MAILLOT, "Corinne Maillot")
        yield running


def test_a_viewer_sees_the_panel_but_records_nothing(with_viewer: Served) -> None:
    from tests.web.conftest import OTHER_PASSWORD

    with with_viewer.logged_in(OTHER, OTHER_PASSWORD) as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        assert "Enregistrer une réponse reçue autrement" not in page.text
        refused = client.post(
            f"/sessions/{SESSION_ID}/jury/answer",
            data={"email": MAILLOT, "partstat": "DECLINED", "csrf": csrf_of(page.text)},
        )
    assert refused.status_code == 403
    assert with_viewer.store.jury_replies() == []


def test_a_juror_who_declined_one_day_is_shown_declining_that_day(invited: Served) -> None:
    with invited.client() as client:  # the whole session accepted, by the link
        url = link(MAILLOT, "accept")
        client.post(url, data={"t": url.partition("&t=")[2]})
    invited.store.record_reply(  # then « refuser cette occurrence », as the inbox records it
        JuryReply(
            key="imip:occurrence:0",
            source="imip",
            kind="reply",
            status="applied",
            session_id=SESSION_ID,
            email=MAILLOT,
            name="Corinne Maillot",
            partstat="DECLINED",
            sequence=0,
            comment="Je suis en formation ce jour-là.",
            replied_at=NOW + timedelta(hours=1),
            recorded_at=NOW + timedelta(hours=1),
            day=date(2027, 3, 16),
        )
    )
    with invited.logged_in() as client:
        listing = html.unescape(client.get("/").text)
        page = client.get(f"/sessions/{SESSION_ID}")
    text = html.unescape(page.text)
    assert 'data-email="c.maillot@jury.example" data-partstat="ACCEPTED"' in page.text
    assert "A décliné le mardi 16 mars 2027" in text
    assert "Je suis en formation ce jour-là." in text
    # not confirmed for the session any more, not declining all of it either
    assert "jury : 0 confirmé / 2 invités" in text
    assert "jury : 0 confirmé / 2 invités" in listing


# --- one exam day: the signed link and the manual entry -----------------------------------------

TUESDAY = date(2027, 3, 16)


def day_link(email: str, answer: str, day: date, sequence: int = 0) -> str:
    key = SECRET.encode()
    expires = NOW + timedelta(days=30)
    return links.answer_url("", key, SESSION_ID, email, sequence, answer, expires, day)


def test_a_day_link_answers_that_day_only(invited: Served) -> None:
    url = day_link(MAILLOT, "decline", TUESDAY)
    assert "&d=2027-03-16&t=" in url
    with invited.client() as client:
        page = client.get(url)
        assert page.status_code == 200
        text = html.unescape(page.text)
        assert "mardi 16 mars 2027" in text
        assert "Confirmer : je ne pourrai pas venir le mardi 16 mars 2027" in text
        form_action = text.split('action="')[1].split('"')[0]
        assert "d=2027-03-16" in form_action
        done = client.post(form_action, data={"t": url.partition("&t=")[2]})
        assert done.status_code == 200
        assert "Votre absence le mardi 16 mars 2027" in html.unescape(done.text)
        client.post(form_action, data={"t": url.partition("&t=")[2]})  # a second click
    (reply,) = invited.store.jury_replies()
    assert (reply.source, reply.partstat, reply.day) == ("link", "DECLINED", TUESDAY)
    assert standing(invited.store) == {}  # the session as a whole is not answered
    with invited.logged_in() as client:
        panel = html.unescape(client.get(f"/sessions/{SESSION_ID}").text)
    assert "A décliné le mardi 16 mars 2027" in panel


def test_an_old_link_without_a_day_still_answers_the_whole_session(invited: Served) -> None:
    with invited.client() as client:
        url = day_link(MAILLOT, "decline", TUESDAY)
        client.post(url, data={"t": url.partition("&t=")[2]})
        invited.clock.now = invited.clock.now + timedelta(minutes=5)
        old = link(MAILLOT, "accept")  # the form of the links sent before the days
        assert "&d=" not in old
        page = client.post(old, data={"t": old.partition("&t=")[2]})
        assert page.status_code == 200
        invited.clock.now = invited.clock.now + timedelta(minutes=5)
        again = link(MAILLOT, "accept")  # a second click: the first stands
        client.post(again, data={"t": again.partition("&t=")[2]})
    assert [r.day for r in invited.store.jury_replies()] == [TUESDAY, None]
    assert standing(invited.store) == {MAILLOT: "ACCEPTED"}
    with invited.logged_in() as client:
        panel = html.unescape(client.get(f"/sessions/{SESSION_ID}").text)
    assert "A décliné le mardi 16 mars 2027" not in panel  # the later whole answer overrides it


@pytest.mark.parametrize(
    "url",
    [
        day_link(MAILLOT, "decline", TUESDAY).replace("d=2027-03-16", "d=2027-03-17"),
        day_link(MAILLOT, "decline", TUESDAY).replace("&d=2027-03-16", ""),  # day removed
        link(MAILLOT, "decline").replace("&t=", "&d=2027-03-16&t="),  # day added to an old one
        day_link(MAILLOT, "decline", TUESDAY).replace("d=2027-03-16", "d=2027-3-16"),
        day_link(MAILLOT, "decline", TUESDAY).replace("d=2027-03-16", "d=%EF%BC%92027-03-16"),
        day_link(MAILLOT, "decline", date(2027, 3, 20)),  # signed, but a Saturday: no exam day
    ],
)
def test_a_tampered_day_is_refused(invited: Served, url: str) -> None:
    with invited.client() as client:
        page = client.get(url)
        assert page.status_code == 403
        assert REFUSED in html.unescape(page.text)
        posted = client.post(url, data={"t": url.partition("&t=")[2]})
        assert posted.status_code == 403
    assert invited.store.jury_replies() == []


def test_a_coordinator_records_an_answer_for_one_day(invited: Served) -> None:
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        text = html.unescape(page.text)
        shortcut = text.split('id="partstat-1"')[1].split("</select>")[0]
        assert '<option value="">jour par jour (ci-dessous)</option>' in shortcut
        assert '<label for="partstat-1">Pour tous les jours' in text
        assert '<label for="jd-1-2027-03-16">mardi 16/03/2027</label>' in text
        assert text.count('name="answer-') == 5 * 2  # each exam day, for each juror
        # the single « day » list of the earlier form is still understood
        wrong = client.post(
            f"/sessions/{SESSION_ID}/jury/answer",
            data={
                "email": FONTAINE,
                "partstat": "DECLINED",
                "day": "2027-03-20",
                "csrf": csrf_of(page.text),
            },
        )
        assert wrong.status_code == 400
        assert "Jour inconnu" in html.unescape(wrong.text)
        done = client.post(
            f"/sessions/{SESSION_ID}/jury/answer",
            data={
                "email": FONTAINE,
                "partstat": "DECLINED",
                "day": "2027-03-16",
                "note": "au tribunal ce jour-là",
                "csrf": csrf_of(page.text),
            },
        )
        assert done.status_code == 303
        client.post(
            f"/sessions/{SESSION_ID}/jury/answer",
            data={
                "email": MAILLOT,
                "partstat": "ACCEPTED",
                "day": "",
                "csrf": csrf_of(page.text),
            },
        )
        after = html.unescape(client.get(done.headers["location"]).text)
    fontaine, maillot = sorted(invited.store.jury_replies(), key=lambda r: r.email or "")[::-1]
    assert (fontaine.email, fontaine.source, fontaine.day) == (FONTAINE, "manual", TUESDAY)
    assert (maillot.email, maillot.day) == (MAILLOT, None)
    assert standing(invited.store) == {MAILLOT: "ACCEPTED"}
    assert "A décliné le mardi 16 mars 2027" in after
    assert "au tribunal ce jour-là" in after


def test_the_cli_and_the_panel_show_the_same_day_answers(
    invited: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    """A day declined by link and a day accepted by hand: ``syncsvc jury`` and the panel say
    the same of each juror."""
    import json
    import re

    from syncsvc.cli import main

    with invited.client() as client:
        url = day_link(MAILLOT, "decline", TUESDAY)
        client.post(url, data={"t": url.partition("&t=")[2]})
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        client.post(
            f"/sessions/{SESSION_ID}/jury/answer",
            data={
                "email": FONTAINE,
                "partstat": "ACCEPTED",
                "day": "2027-03-19",
                "csrf": csrf_of(page.text),
            },
        )
        panel = html.unescape(client.get(f"/sessions/{SESSION_ID}").text)
    toml = invited.config / "syncsvc.toml"
    text = re.sub(
        r'(?m)^url = "sqlite:.*"$', f'url = "sqlite:///{invited.root}/state.db"', toml.read_text()
    )
    toml.write_text(text, encoding="utf-8")
    config, now = str(invited.config), "2027-02-08T12:00+04:00"
    assert main(["jury", SESSION_ID, "--config", config, "--now", now, "--format", "json"]) == 0
    rows = {r["email"]: r for r in json.loads(capsys.readouterr().out)}
    assert main(["jury", SESSION_ID, "--config", config, "--now", now]) == 0
    table = capsys.readouterr().out
    said = {
        MAILLOT: ("NEEDS-ACTION", "DECLINED", "2027-03-16", "a décliné le mardi 16 mars 2027"),
        FONTAINE: ("NEEDS-ACTION", "ACCEPTED", "2027-03-19", "a accepté le vendredi 19 mars 2027"),
    }
    for email, (partstat, answer, day, words) in said.items():
        assert rows[email]["partstat"] == partstat
        assert [(d["day"], d["partstat"]) for d in rows[email]["days"]] == [(day, answer)]
        assert f'data-email="{email}" data-partstat="{partstat}"' in panel
        assert f'data-day="{day}">{words.capitalize()}' in panel
        assert words in table


# --- every exam day in one entry: « oui sauf jeudi » ---------------------------------------------

THURSDAY = date(2027, 3, 18)
WEEK = [date(2027, 3, 15) + timedelta(days=n) for n in range(5)]


def _days_form(page_text: str, row: int) -> str:
    """The manual entry of the ``row``-th juror of the panel (its HTML)."""
    return html.unescape(page_text).split(f'id="j-{row}"')[1].split("</form>")[0]


def _selected(form: str, day: date) -> str:
    """The option chosen for ``day`` in a juror's entry (its value)."""
    chooser = form.split(f'name="answer-{day.isoformat()}"')[1].split("</select>")[0]
    return chooser.split(" selected")[0].rsplit('value="', 1)[1].split('"')[0]


def _board_row(served: Served, email: str) -> JurorRow:
    """The juror's row as the mail of the day reads it (reminders, replacements)."""
    from syncsvc.app.jury import jury_board
    from syncsvc.core.planner import plan_sessions
    from syncsvc.inputs.loader import load_config

    planned = plan_sessions(load_config(served.config), {}, NOW).planned
    board = jury_board(planned, served.store, NOW)
    return next(r for r in board.of(SESSION_ID) if r.email == email)


def test_a_coordinator_records_yes_except_thursday_in_one_entry(invited: Served) -> None:
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        form = _days_form(page.text, 2)  # Patrick Fontaine, the second juror
        assert "Pour tous les jours" in form
        assert "jeudi 18/03/2027" in form
        assert "lundi 15/03/2027" in form
        assert "vendredi 19/03/2027" in form
        for day in WEEK:  # nothing answered yet: every day without an answer
            assert _selected(form, day) == ""
        assert form.count(">Sans réponse</option>") == 5
        fields = {f"answer-{d.isoformat()}": "" for d in WEEK}
        fields |= {f"was-{d.isoformat()}": "" for d in WEEK}
        posted = {
            **fields,
            "email": FONTAINE,
            "partstat": "ACCEPTED",
            "answer-2027-03-18": "DECLINED",
            "note": "oui sauf jeudi (au téléphone)",
        }
        no_csrf = client.post(f"/sessions/{SESSION_ID}/jury/answer", data=posted)
        assert no_csrf.status_code == 403
        done = client.post(
            f"/sessions/{SESSION_ID}/jury/answer", data={**posted, "csrf": csrf_of(page.text)}
        )
        assert done.status_code == 303
        after = client.get(done.headers["location"])
    whole, thursday = invited.store.jury_replies()
    assert (whole.source, whole.partstat, whole.day, whole.by) == (
        "manual",
        "ACCEPTED",
        None,
        "Nathalie Técher",
    )
    assert (thursday.source, thursday.partstat, thursday.day, thursday.by) == (
        "manual",
        "DECLINED",
        THURSDAY,
        "Nathalie Técher",
    )
    assert whole.comment == thursday.comment == "oui sauf jeudi (au téléphone)"
    assert whole.sequence == thursday.sequence == 0
    text = html.unescape(after.text)
    assert "La réponse du jury est enregistrée." in text
    assert "A décliné le jeudi 18 mars 2027" in text
    assert "jury : 0 confirmé / 2 invités" in text  # not confirmed: Thursday is declined
    form = _days_form(after.text, 2)  # the entry now shows the answers in force
    assert [_selected(form, d) for d in WEEK] == ["ACCEPTED"] * 3 + ["DECLINED", "ACCEPTED"]
    assert form.count(">Sans réponse</option>") == 6  # to take back a day, or the session
    row = _board_row(invited, FONTAINE)  # what the reminders and the replacements are told
    assert (row.partstat, row.declined_days, row.awaited) == ("ACCEPTED", (THURSDAY,), False)


def test_answers_day_by_day_leave_the_other_days_awaited(invited: Served) -> None:
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        token = csrf_of(page.text)
        posted = {f"was-{d.isoformat()}": "" for d in WEEK} | {
            "email": MAILLOT,
            "partstat": "",  # « jour par jour »
            "answer-2027-03-15": "ACCEPTED",
            "answer-2027-03-16": "ACCEPTED",
            "answer-2027-03-17": "DECLINED",
            "answer-2027-03-18": "",
            "answer-2027-03-19": "",
            "csrf": token,
        }
        done = client.post(f"/sessions/{SESSION_ID}/jury/answer", data=posted)
        assert done.status_code == 303
        form = _days_form(client.get(f"/sessions/{SESSION_ID}").text, 1)
    replies = invited.store.jury_replies()
    assert [(r.day, r.partstat) for r in replies] == [
        (date(2027, 3, 15), "ACCEPTED"),
        (date(2027, 3, 16), "ACCEPTED"),
        (date(2027, 3, 17), "DECLINED"),
    ]
    assert {r.source for r in replies} == {"manual"}
    assert [_selected(form, d) for d in WEEK] == ["ACCEPTED", "ACCEPTED", "DECLINED", "", ""]
    row = _board_row(invited, MAILLOT)  # reminded of Thursday and Friday only
    assert row.open_days == (THURSDAY, date(2027, 3, 19))
    assert row.awaited
    assert row.declined_days == (date(2027, 3, 17),)


def test_changing_one_day_writes_that_day_only(invited: Served) -> None:
    with invited.client() as client:  # Corinne Maillot accepted the session by her link
        url = link(MAILLOT, "accept")
        client.post(url, data={"t": url.partition("&t=")[2]})
    invited.clock.now = invited.clock.now + timedelta(hours=1)
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        form = _days_form(page.text, 1)
        assert [_selected(form, d) for d in WEEK] == ["ACCEPTED"] * 5
        shown = {f"was-{d.isoformat()}": "ACCEPTED" for d in WEEK}
        answers_ = {f"answer-{d.isoformat()}": "ACCEPTED" for d in WEEK}
        posted = shown | answers_ | {"email": MAILLOT, "partstat": "", "csrf": csrf_of(page.text)}
        nothing = client.post(f"/sessions/{SESSION_ID}/jury/answer", data=posted)
        assert nothing.status_code == 400
        assert "Rien à enregistrer" in html.unescape(nothing.text)
        posted["answer-2027-03-18"] = "TENTATIVE"
        done = client.post(f"/sessions/{SESSION_ID}/jury/answer", data=posted)
        assert done.status_code == 303
    link_reply, manual = invited.store.jury_replies()
    assert (link_reply.source, link_reply.day) == ("link", None)
    assert (manual.source, manual.partstat, manual.day) == ("manual", "TENTATIVE", THURSDAY)
    assert standing(invited.store) == {MAILLOT: "ACCEPTED"}


def test_every_day_alike_is_one_answer_to_the_session(invited: Served) -> None:
    """Five days declined one by one in the entry: one answer for the session, so the
    coordination is told once, not five times."""
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        posted = {f"was-{d.isoformat()}": "" for d in WEEK}
        posted |= {f"answer-{d.isoformat()}": "DECLINED" for d in WEEK}
        posted |= {"email": FONTAINE, "partstat": "", "csrf": csrf_of(page.text)}
        done = client.post(f"/sessions/{SESSION_ID}/jury/answer", data=posted)
        assert done.status_code == 303
    (reply,) = invited.store.jury_replies()
    assert (reply.partstat, reply.day) == ("DECLINED", None)


@pytest.mark.parametrize(
    ("extra", "title"),
    [
        ({"answer-2027-03-20": "DECLINED"}, "Jour inconnu"),  # a Saturday: no exam day
        ({"answer-2027-3-18": "DECLINED"}, "Jour inconnu"),
        ({"answer-2027-03-18": "MAYBE"}, "Réponse inconnue"),
        ({"answer-2027-03-18": "NEEDS-ACTION"}, "Réponse inconnue"),
        ({"partstat": "OUI"}, "Réponse inconnue"),
        ({}, "Rien à enregistrer"),
        ({"partstat": "NEEDS-ACTION"}, "Rien à enregistrer"),  # no answer to take back
    ],
)
def test_a_wrong_day_entry_records_nothing(
    invited: Served, extra: dict[str, str], title: str
) -> None:
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        posted = {"email": FONTAINE, "partstat": "", "csrf": csrf_of(page.text)} | extra
        refused = client.post(f"/sessions/{SESSION_ID}/jury/answer", data=posted)
    assert refused.status_code == 400
    assert title in html.unescape(refused.text)
    assert invited.store.jury_replies() == []


def test_a_viewer_records_no_day_entry(with_viewer: Served) -> None:
    from tests.web.conftest import OTHER_PASSWORD

    with with_viewer.logged_in(OTHER, OTHER_PASSWORD) as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        assert "Pour tous les jours" not in page.text
        refused = client.post(
            f"/sessions/{SESSION_ID}/jury/answer",
            data={
                "email": MAILLOT,
                "partstat": "",
                "answer-2027-03-18": "DECLINED",
                "csrf": csrf_of(page.text),
            },
        )
    assert refused.status_code == 403
    assert with_viewer.store.jury_replies() == []


def test_a_text_reply_is_recorded_day_by_day_and_filed(invited: Served) -> None:
    invited.store.record_reply(
        JuryReply(
            key="imip:texte:1",
            source="imip",
            kind="text",
            status="pending",
            session_id=SESSION_ID,
            email=FONTAINE,
            name="Patrick Fontaine",
            partstat=None,
            sequence=None,
            comment=None,
            replied_at=NOW - timedelta(hours=1),
            recorded_at=NOW,
            subject="RE: Invitation",
            excerpt="Oui, sauf jeudi.",
        )
    )
    (pending,) = invited.store.jury_replies()
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        entry = html.unescape(page.text).split(f'data-reply="{pending.id}"')[1].split("</form>")[0]
        assert "Pour tous les jours" in entry
        assert "jeudi 18/03/2027" in entry
        posted = {f"was-{d.isoformat()}": "" for d in WEEK} | {
            "email": FONTAINE,
            "reply": str(pending.id),
            "partstat": "ACCEPTED",
            "answer-2027-03-18": "DECLINED",
            "csrf": csrf_of(page.text),
        }
        assert client.post(f"/sessions/{SESSION_ID}/jury/answer", data=posted).status_code == 303
    assert invited.store.reply_by_id(pending.id or 0).status == "handled"  # type: ignore[union-attr]
    manual = [(r.partstat, r.day) for r in invited.store.jury_replies() if r.source == "manual"]
    assert manual == [("ACCEPTED", None), ("DECLINED", THURSDAY)]


def test_an_entry_that_fails_halfway_records_nothing(
    invited: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """« Oui sauf jeudi » is two replies: the second write fails (the disk is full), the first
    is rolled back with it and the coordinator is told, in French, that nothing was saved."""
    write = invited.store._insert_reply
    calls: list[date | None] = []

    def second_write_fails(db: Connection, one: JuryReply) -> bool:
        calls.append(one.day)
        if len(calls) == 2:
            raise OperationalError("INSERT", {}, Exception("database or disk is full"))
        return write(db, one)

    monkeypatch.setattr(invited.store, "_insert_reply", second_write_fails)
    with invited.logged_in() as client:
        page = client.get(f"/sessions/{SESSION_ID}")
        posted = {f"was-{d.isoformat()}": "" for d in WEEK} | {
            "email": FONTAINE,
            "partstat": "ACCEPTED",
            "answer-2027-03-18": "DECLINED",
            "csrf": csrf_of(page.text),
        }
        failed = client.post(f"/sessions/{SESSION_ID}/jury/answer", data=posted)
        after = client.get(f"/sessions/{SESSION_ID}")
    assert calls == [None, THURSDAY]  # the session's answer was written, then Thursday failed
    assert failed.status_code == 503
    text = html.unescape(failed.text)
    assert "Réponse non enregistrée" in text
    assert "Rien n'a été enregistré" in text
    assert "disque plein" in text
    assert invited.store.jury_replies() == []
    form = _days_form(after.text, 2)
    assert [_selected(form, d) for d in WEEK] == [""] * 5


# --- taking an answer back: « Sans réponse » ----------------------------------------------------


def _yes_except_thursday(client: Any, page_text: str) -> None:
    posted = {f"was-{d.isoformat()}": "" for d in WEEK} | {
        f"answer-{d.isoformat()}": "" for d in WEEK
    }
    posted |= {"email": FONTAINE, "partstat": "ACCEPTED", "answer-2027-03-18": "DECLINED"}
    done = client.post(
        f"/sessions/{SESSION_ID}/jury/answer", data={**posted, "csrf": csrf_of(page_text)}
    )
    assert done.status_code == 303


def test_a_day_recorded_by_mistake_is_set_back_to_no_answer(
    invited: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """Thursday's « décliné » was meant for another juror: the coordinator sets it back to
    « Sans réponse »; the day is asked again, the other days keep their answer, and the ledger
    and the log say who did it."""
    caplog.set_level(logging.INFO, logger="syncsvc")
    with invited.logged_in() as client:
        _yes_except_thursday(client, client.get(f"/sessions/{SESSION_ID}").text)
        invited.clock.now = invited.clock.now + timedelta(minutes=5)
        page = client.get(f"/sessions/{SESSION_ID}")
        form = _days_form(page.text, 2)
        assert '<option value="">Sans réponse</option>' in form.split('name="answer-2027-03-18"')[1]
        shown = {f"was-{d.isoformat()}": "ACCEPTED" for d in WEEK} | {"was-2027-03-18": "DECLINED"}
        posted = shown | {f"answer-{d.isoformat()}": "ACCEPTED" for d in WEEK}
        posted |= {"answer-2027-03-18": "", "email": FONTAINE, "partstat": ""}
        posted |= {"note": "saisi sur le mauvais juré", "csrf": csrf_of(page.text)}
        done = client.post(f"/sessions/{SESSION_ID}/jury/answer", data=posted)
        assert done.status_code == 303
        after = client.get(done.headers["location"])
    cleared = invited.store.jury_replies()[-1]
    assert (cleared.source, cleared.partstat, cleared.day, cleared.by, cleared.comment) == (
        "manual",
        "NEEDS-ACTION",
        THURSDAY,
        "Nathalie Técher",
        "saisi sur le mauvais juré",
    )
    form = _days_form(after.text, 2)
    assert [_selected(form, d) for d in WEEK] == ["ACCEPTED"] * 3 + ["", "ACCEPTED"]
    text = html.unescape(after.text)
    assert "A décliné le jeudi 18 mars 2027" not in text
    assert "Sans réponse le jeudi 18 mars 2027" in text
    row = _board_row(invited, FONTAINE)  # reminded of Thursday; busy that day, as unanswered
    assert (row.partstat, row.open_days, row.awaited, row.declined_days) == (
        "ACCEPTED",
        (THURSDAY,),
        True,
        (),
    )
    assert "réponse retirée le 2027-03-18" in caplog.text
    assert "saisie par coordination (réponse retirée le 2027-03-18)" in caplog.text


def test_the_whole_session_is_set_back_to_no_answer(invited: Served) -> None:
    with invited.logged_in() as client:
        _yes_except_thursday(client, client.get(f"/sessions/{SESSION_ID}").text)
        invited.clock.now = invited.clock.now + timedelta(minutes=5)
        page = client.get(f"/sessions/{SESSION_ID}")
        shown = {f"was-{d.isoformat()}": "ACCEPTED" for d in WEEK} | {"was-2027-03-18": "DECLINED"}
        answered = {f"answer-{d.isoformat()}": "ACCEPTED" for d in WEEK} | {
            "answer-2027-03-18": "DECLINED"
        }
        posted = shown | answered | {"email": FONTAINE, "partstat": "NEEDS-ACTION"}
        done = client.post(
            f"/sessions/{SESSION_ID}/jury/answer", data={**posted, "csrf": csrf_of(page.text)}
        )
        assert done.status_code == 303
        after = client.get(done.headers["location"])
    cleared = invited.store.jury_replies()[-1]
    assert (cleared.partstat, cleared.day, cleared.by) == ("NEEDS-ACTION", None, "Nathalie Técher")
    form = _days_form(after.text, 2)
    assert [_selected(form, d) for d in WEEK] == [""] * 5
    assert form.count(">Sans réponse</option>") == 5  # nothing left to take back as a whole
    assert standing(invited.store) == {}
    row = _board_row(invited, FONTAINE)
    assert (row.partstat, row.days, row.awaited) == ("NEEDS-ACTION", (), True)
