"""Roles: a coordinator changes the sessions of its centres only, a viewer changes nothing; the
buttons are not shown and the server answers 403 (a French page) to a forged request."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from syncsvc.inputs.settings import Settings, WebUser, load_settings
from syncsvc.web.auth import User, user_of
from tests.web.conftest import (
    OTHER,
    OTHER_PASSWORD,
    SECRET,
    SECRET_ENV,
    SESSION_ID,
    USER,
    Served,
    csrf_of,
    serve,
    web_settings,
)

STRASBOURG = "afpa-strasbourg"
TEE = "tee-2027-04-strasbourg"


def limited(config: Path) -> Settings:
    """USER coordinates Strasbourg only; OTHER is a viewer."""
    settings = web_settings(config)
    changes: dict[str, dict[str, object]] = {
        USER: {"centres": (STRASBOURG,)},
        OTHER: {"role": "viewer"},
    }
    users = tuple(u.model_copy(update=changes.get(u.login, {})) for u in settings.web.users)
    return settings.model_copy(update={"web": settings.web.model_copy(update={"users": users})})


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, limited) as running:
        yield running


def test_who_may_change_which_centre() -> None:
    assert User("a", "a", "admin", frozenset()).may_change("x")
    assert User("c", "c", "coordinator", frozenset({"x"})).may_change("x")
    assert not User("c", "c", "coordinator", frozenset({"x"})).may_change("y")
    assert User("c", "c", "coordinator", None).may_change("y")  # centres not written: all
    assert not User("v", "v", "viewer", None).may_change("x")
    account = WebUser(login="n", password_hash="x" * 20, centres=("a-b", "c-d"))
    assert user_of(account).changeable(["c-d", "e-f", "a-b"]) == ["c-d", "a-b"]
    with pytest.raises(ValidationError):
        WebUser(login="n", password_hash="x" * 20, centres=("Pas une clé",))


def test_a_coordinator_sees_no_button_of_another_centre_and_is_refused(roles: Served) -> None:
    with roles.logged_in() as client:
        other = client.get(f"/sessions/{SESSION_ID}")
        assert other.status_code == 200
        assert "Marquer fait" not in other.text
        own = client.get(f"/sessions/{TEE}")
        assert "Marquer fait" in own.text
        refused = client.post(
            f"/sessions/{SESSION_ID}/milestones/dte_order/done",
            data={"csrf": csrf_of(own.text), "done_on": "2027-02-08"},
        )
        assert refused.status_code == 403
        assert "Centre d'un autre coordinateur" in html.unescape(refused.text)
        assert '<html lang="fr">' in refused.text
        accepted = client.post(
            f"/sessions/{TEE}/milestones/dte_order/done",
            data={"csrf": csrf_of(own.text), "done_on": "2027-02-08"},
        )
        assert accepted.status_code == 303
    assert set(roles.store.done_marks()) == {TEE}


def test_a_viewer_sees_no_button_and_is_refused(roles: Served) -> None:
    with roles.logged_in(OTHER, OTHER_PASSWORD) as client:
        page = client.get(f"/sessions/{TEE}")
        assert "Marquer fait" not in page.text
        refused = client.post(
            f"/sessions/{TEE}/milestones/dte_order/done",
            data={"csrf": csrf_of(page.text), "done_on": "2027-02-08"},
        )
        assert refused.status_code == 403
    assert roles.store.done_marks() == {}


def test_the_readme_example_of_a_coordinator_loads(tmp_path: Path) -> None:
    (tmp_path / "syncsvc.toml").write_text(
        '[[web.users]]\nlogin = "nathalie"\nname = "Nathalie Técher"\n'
        f'password_hash = "{"scrypt$" + "x" * 30}"\nrole = "coordinator"\n'
        'centres = ["afpar-st-andre"]\n',
        encoding="utf-8",
    )
    (account,) = load_settings(tmp_path).web.users
    user = user_of(account)
    assert user.may_change("afpar-st-andre")
    assert not user.may_change("afpa-strasbourg")


def test_a_coordinator_records_no_jury_answer_for_another_centre(roles: Served) -> None:
    before = roles.store.jury_version()
    with roles.logged_in() as client:
        other = client.get(f"/sessions/{SESSION_ID}")
        assert "Enregistrer une réponse reçue autrement" not in html.unescape(other.text)
        own = client.get(f"/sessions/{TEE}")
        assert "Enregistrer une réponse reçue autrement" in html.unescape(own.text)
        refused = client.post(
            f"/sessions/{SESSION_ID}/jury/answer",
            data={
                "csrf": csrf_of(own.text),
                "email": "c.maillot@jury.example",
                "partstat": "ACCEPTED",
            },
        )
        assert refused.status_code == 403
        assert roles.store.jury_version() == before
        accepted = client.post(
            f"/sessions/{TEE}/jury/answer",
            data={
                "csrf": csrf_of(own.text),
                "email": "m.schmitt@jury.example",
                "partstat": "ACCEPTED",
            },
        )
        # its own centre's juror: past the role check (no invitation was sent in this test)
        assert accepted.status_code == 409
        assert "Pas d'invitation en cours" in html.unescape(accepted.text)


def test_a_proxy_named_user_keeps_its_centres(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)

    def proxied(config: Path) -> Settings:
        settings = limited(config)
        web = settings.web.model_copy(update={"auth_header": "X-Remote-User"})
        return settings.model_copy(update={"web": web})

    with serve(tmp_path, proxied) as running, running.client() as client:
        headers = {"X-Remote-User": USER}
        assert "/modifier" not in client.get(f"/sessions/{SESSION_ID}", headers=headers).text
        assert client.get(f"/sessions/{SESSION_ID}/modifier", headers=headers).status_code == 403
        assert client.get(f"/sessions/{TEE}/modifier", headers=headers).status_code == 200
        stranger = {"X-Remote-User": "inconnu"}  # not in users: coordinator of every centre
        assert client.get(f"/sessions/{SESSION_ID}/modifier", headers=stranger).status_code == 200


def test_held_deletions_of_another_centres_calendar_are_not_confirmed_by_a_coordinator(
    roles: Served,
) -> None:
    with roles.logged_in() as client:
        page = client.get("/targets")
        for target in ("coordination-st-andre", "responsable-chabert"):
            refused = client.post(
                f"/targets/{target}/confirm-deletions",
                data={"csrf": csrf_of(page.text), "fingerprint": "x"},
            )
            assert refused.status_code == 403, target
            assert "Calendrier d'un autre centre" in html.unescape(refused.text)


def test_a_coordinator_of_every_centre_reaches_the_held_deletions(served: Served) -> None:
    with served.logged_in() as client:
        page = client.get("/targets")
        answer = client.post(
            "/targets/coordination-st-andre/confirm-deletions",
            data={"csrf": csrf_of(page.text), "fingerprint": "x"},
        )
        assert answer.status_code == 409  # allowed: nothing is held with this fingerprint
