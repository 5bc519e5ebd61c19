"""Roles, and candidates' names and addresses kept for administrators: the outbox page and
``syncsvc outbox`` mask them for everyone else; a viewer only reads."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from syncsvc.cli import main
from syncsvc.inputs.settings import Settings, WebUser
from syncsvc.state.store import Store
from syncsvc.web.privacy import mask_address, masked
from tests.web.conftest import (
    NOW,
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

CANDIDATE = "camille.dupont@mail.example"
MASKED = "c•••@m•••.example"
NAME = "Camille Dupont"
SUBJECT = f"{NAME} : votre examen Secrétaire assistant du 15/03/2027"


def _with_roles(config: Path, **roles: str) -> Settings:
    settings = web_settings(config)
    users = tuple(
        u.model_copy(update={"role": roles.get(u.login, u.role)}) for u in settings.web.users
    )
    return settings.model_copy(update={"web": settings.web.model_copy(update={"users": users})})


def enqueue_candidate_mail(store: Store) -> int:
    message = (
        f"To: {NAME} <{CANDIDATE}>\r\nSubject: {SUBJECT}\r\n\r\nBonjour {NAME},\r\n"
    ).encode()
    store.enqueue(
        key=f"candidate_info:{SESSION_ID}:2027-03-15:{CANDIDATE}",
        kind="candidate_info",
        recipient=CANDIDATE,
        subject=SUBJECT,
        message_id="<c@test>",
        message=message,
        now=NOW,
        session_id=SESSION_ID,
    )
    store.enqueue(
        key="reminder:1",
        kind="reminder",
        recipient="n.techer@afpar.example",
        subject="[SA 15/03] Rappel : Commander le pli d'examen (DTE) (J-7, le 08/02)",
        message_id="<r@test>",
        message=b"x",
        now=NOW,
    )
    found = next(r for r in store.messages() if r.kind == "candidate_info")
    store.mark_dead(found.id, f"550 5.1.1 <{CANDIDATE}>: boîte inconnue")
    return found.id


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """USER is an administrator, OTHER a viewer (the default role is coordinator)."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, lambda c: _with_roles(c, **{USER: "admin", OTHER: "viewer"})) as s:
        yield s


def test_mask_address() -> None:
    assert mask_address(CANDIDATE) == MASKED
    assert mask_address("a@b.c.example") == "a•••@b•••.example"
    assert mask_address("x@localhost") == "x•••@l•••"
    assert mask_address("pas une adresse") == "•••"


def test_the_outbox_page_masks_candidates_for_a_coordinator(served: Served) -> None:
    dead = enqueue_candidate_mail(served.store)
    with served.logged_in() as client:  # the tests' USER: coordinator by default
        page = client.get("/outbox").text
    text = html.unescape(page)
    assert CANDIDATE not in text
    assert "camille" not in text.lower()
    assert "dupont" not in text.lower()
    assert MASKED in text
    assert "votre examen Secrétaire assistant du 15/03/2027" in text
    assert f'id="msg-{dead}"' in page
    assert "550 5.1.1" in text  # the error stays, without the address
    assert "n.techer@afpar.example" in text  # staff mail is not masked
    assert "masqués" in text


def test_an_administrator_sees_candidates(roles: Served) -> None:
    enqueue_candidate_mail(roles.store)
    with roles.logged_in() as client:
        text = html.unescape(client.get("/outbox").text)
    assert CANDIDATE in text
    assert SUBJECT in text
    assert MASKED not in text


def test_a_viewer_reads_but_does_not_act(roles: Served) -> None:
    dead = enqueue_candidate_mail(roles.store)
    with roles.logged_in(OTHER, OTHER_PASSWORD) as client:
        outbox = client.get("/outbox").text
        assert CANDIDATE not in html.unescape(outbox)
        assert "Renvoyer<" not in outbox
        session = client.get(f"/sessions/{SESSION_ID}").text
        assert "Marquer fait" not in session
        csrf = csrf_of(outbox)  # the logout form is still there
        done = client.post(f"/sessions/{SESSION_ID}/milestones/dte_order/done", data={"csrf": csrf})
        assert done.status_code == 403
        assert "consulter" in html.unescape(done.text)
        assert client.post(f"/outbox/{dead}/resend", data={"csrf": csrf}).status_code == 403
    assert roles.store.done_marks() == {}
    assert [r.id for r in roles.store.messages("dead")] == [dead]


def test_roles_in_settings() -> None:
    user = WebUser(login="marie", password_hash="scrypt$" + "x" * 30)
    assert user.role == "coordinator"  # existing configurations keep their rights
    assert WebUser(login="m", password_hash="s" * 20, role="admin").role == "admin"
    with pytest.raises(ValidationError):
        WebUser(login="m", password_hash="s" * 20, role="root")


# --- syncsvc outbox ------------------------------------------------------------------------


@pytest.fixture
def cli_config(tmp_path: Path) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    db = tmp_path / "state.db"
    (config / "syncsvc.toml").write_text(f'[store]\nurl = "sqlite:///{db}"\n', encoding="utf-8")
    store = Store(f"sqlite:///{db}")
    store.migrate()
    enqueue_candidate_mail(store)
    store.close()
    return config


def test_the_cli_masks_candidates_unless_asked(
    cli_config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SYNCSVC_SETTINGS", raising=False)
    assert main(["outbox", "--config", str(cli_config)]) == 0
    shown = capsys.readouterr().out
    assert CANDIDATE not in shown
    assert NAME not in shown
    assert MASKED in shown
    assert "n.techer@afpar.example" in shown
    assert "--show-candidates" in shown  # says how to see them
    assert main(["outbox", "--failed", "--config", str(cli_config), "--show-candidates"]) == 0
    shown = capsys.readouterr().out
    assert CANDIDATE in shown
    assert SUBJECT in shown


def test_masked_rows_keep_everything_but_the_candidate(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    store.migrate()
    enqueue_candidate_mail(store)
    rows = {r.kind: r for r in store.messages()}
    store.close()
    candidate = masked(rows["candidate_info"])
    assert (candidate.recipient, candidate.subject) == (
        MASKED,
        "••• : votre examen Secrétaire assistant du 15/03/2027",
    )
    assert candidate.last_error == f"550 5.1.1 <{MASKED}>: boîte inconnue"
    assert candidate.message == b""  # the stored message (name, address) is not passed on
    assert candidate.id == rows["candidate_info"].id
    assert masked(rows["reminder"]) == rows["reminder"]
