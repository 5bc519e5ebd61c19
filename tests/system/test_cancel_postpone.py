"""Issue 12, « Reporter » and « Annuler », end to end through the command line on the example
configuration: ``sync`` to a real Radicale (a cancelled session's events and tasks kept,
``STATUS:CANCELLED`` and « ANNULÉE — », nothing deleted), ``notify --now`` to a real SMTP
server (the jury's CANCEL, then no reminder for the cancelled session), ``plan`` and
``validate`` (« cancelled », « redo », « Informer l'UD du report », the DTE already ordered).

The Secrétaire assistant session of Saint-André (La Réunion) runs from Monday 15 to Friday 19
March 2027; cancelled on Tuesday 24 November 2026, or postponed that day to 12–16 April 2027.
"""

from __future__ import annotations

import json
import shutil
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncsvc.cli import main
from tests.harness.servers import CalDAVServer
from tests.system.service import Inbox

ROOT = Path(__file__).resolve().parents[2]
SA = "sa-2027-03-st-andre"
CCP = "ccp-ac-2027-05-st-andre"
CANCELLATION = 'cancelled: {on: 2026-11-24, reason: "Nombre de candidats insuffisant"}\n'
POSTPONED_DATES = ("start: 2027-04-12", "end: 2027-04-16")
POSTPONEMENT = (
    "postponed:\n"
    "  - {from_start: 2027-03-15, from_end: 2027-03-19, on: 2026-11-24, "
    'reason: "Plateau technique indisponible"}\n'
)


def write_config(tmp: Path, server: CalDAVServer | None = None, smtp_port: int = 25) -> Path:
    config = tmp / "config"
    shutil.copytree(ROOT / "config", config)
    targets = ""
    if server is not None:
        for name, calendar, items in (
            ("coordination-st-andre", "examens-st-andre", "events"),
            ("taches-st-andre", "taches-st-andre", "tasks"),
        ):
            targets += f"""
[[targets]]
name = "{name}"
kind = "caldav"
url = "{server.url}"
username = "{server.username}"
password_env = "TEST_CALDAV_PASSWORD"
calendar = "{calendar}"
audience = "coordinators:afpar-st-andre"
items = "{items}"
"""
    (config / "syncsvc.toml").write_text(
        f"""
[store]
url = "sqlite:///{tmp / "state.db"}"

[mail]
transport = "smtp"
host = "127.0.0.1"
port = {smtp_port}
from = "Examens <examens@afpar.example>"
rate_per_minute = 100000
{targets}
""",
        encoding="utf-8",
    )
    return config


def session_file(config: Path, session_id: str = SA) -> Path:
    return config / "sessions" / f"{session_id}.yaml"


def append(config: Path, text: str, session_id: str = SA) -> None:
    path = session_file(config, session_id)
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def postpone(config: Path) -> None:
    path = session_file(config)
    text = path.read_text(encoding="utf-8")
    text = text.replace("start: 2027-03-15", POSTPONED_DATES[0])
    text = text.replace("end: 2027-03-19", POSTPONED_DATES[1])
    path.write_text(text + POSTPONEMENT, encoding="utf-8")


def item(server: CalDAVServer, calendar: str, uid: str) -> str:
    url = f"{server.home_url}{calendar}/{uid.replace('@', '%40')}.ics"
    response = httpx.get(url, auth=(server.username, server.password))
    assert response.status_code == 200, url
    return response.text.replace("\r\n ", "")


def text_of(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


# --- sync: kept as cancelled, not deleted -------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "said"),
    [
        (CANCELLATION, "Session annulée le 24/11/2026 : Nombre de candidats insuffisant"),
        ("cancelled: true\n", "Session annulée"),  # as files said it before the block
    ],
)
def test_cancelling_keeps_the_events_and_tasks_marked_cancelled(
    radicale: CalDAVServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    written: str,
    said: str,
) -> None:
    config = write_config(tmp_path, radicale)
    args = ["sync", "--once", "--config", str(config)]
    assert main([*args, "--now", "2026-11-23"]) == 0
    capsys.readouterr()
    exam = item(radicale, "examens-st-andre", f"{SA}.exam_session@syncsvc")
    assert "STATUS:CONFIRMED" in exam
    assert "SUMMARY:Session d'examen (jour 1/5) — SA St-André" in exam

    append(config, written)
    radicale.proxy.reset()
    assert main([*args, "--now", "2026-11-24"]) == 0
    out = capsys.readouterr().out
    assert "0 création(s)" in out
    assert "0 suppression(s)" in out
    assert radicale.proxy.counts["DELETE"] == 0

    exam = item(radicale, "examens-st-andre", f"{SA}.exam_session@syncsvc")
    assert "STATUS:CANCELLED" in exam
    assert "SUMMARY:ANNULÉE — Session d'examen (jour 1/5) — SA St-André" in exam
    assert f"DESCRIPTION:{said}\\n\\nTP-00374 Secrétaire assistant" in exam
    assert "TRANSP:TRANSPARENT" in exam
    assert "BEGIN:VALARM" not in exam
    last_day = item(radicale, "examens-st-andre", f"{SA}.exam_session.day5@syncsvc")
    assert "STATUS:CANCELLED" in last_day  # every exam day
    assert "SUMMARY:ANNULÉE — Session d'examen (jour 5/5) — SA St-André" in last_day
    dte = item(radicale, "examens-st-andre", f"{SA}.dte_order@syncsvc")
    assert "STATUS:CANCELLED" in dte
    assert "SUMMARY:ANNULÉE — J-92 · DTE — SA St-André" in dte
    assert "CATEGORIES:Examens TP,Réglementaire,Annulé" in dte

    task = item(radicale, "taches-st-andre", f"{SA}.candidate_convocation@syncsvc")
    assert "BEGIN:VTODO" in task
    assert "STATUS:CANCELLED" in task
    assert "SUMMARY:ANNULÉE — J-31 · Convocation candidats — SA St-André" in task
    assert "DUE;VALUE=DATE:20270212" in task

    # the other session of the centre is untouched
    other = item(radicale, "examens-st-andre", f"{CCP}.exam_session@syncsvc")
    assert "STATUS:CONFIRMED" in other
    assert "ANNULÉE" not in other

    radicale.proxy.reset()
    assert main([*args, "--now", "2026-11-24"]) == 0
    assert "0 création(s), 0 mise(s) à jour, 0 suppression(s)" in capsys.readouterr().out
    assert radicale.proxy.writes == 0

    # the cancellation withdrawn: the same items come back as they were
    path = session_file(config)
    path.write_text(path.read_text(encoding="utf-8").replace(written, ""), encoding="utf-8")
    assert main([*args, "--now", "2026-11-25"]) == 0
    assert "0 suppression(s)" in capsys.readouterr().out
    exam = item(radicale, "examens-st-andre", f"{SA}.exam_session@syncsvc")
    assert "STATUS:CONFIRMED" in exam
    assert "SUMMARY:Session d'examen (jour 1/5) — SA St-André" in exam
    task = item(radicale, "taches-st-andre", f"{SA}.candidate_convocation@syncsvc")
    assert "STATUS:NEEDS-ACTION" in task


# --- notify: the jury's CANCEL, then silence ----------------------------------------------------


def mentions_sa(message: EmailMessage) -> bool:
    return "SA St-André" in text_of(message) or "SA 15/03" in str(message["Subject"])


def test_a_cancelled_session_tells_its_jury_then_sends_no_reminder(
    inbox: tuple[Inbox, int], tmp_path: Path
) -> None:
    box, port = inbox
    config = write_config(tmp_path / "cancelled", smtp_port=port)
    control = write_config(tmp_path / "control", smtp_port=port)
    for folder in (config, control):
        assert main(["notify", "--config", str(folder), "--now", "2026-11-23T09:00+04:00"]) == 0
    invited = [m for m in box.messages if str(m["Subject"]).startswith("Invitation : ")]
    assert {str(m["To"]) for m in invited if "TP-00374" in str(m["Subject"])} >= {
        "Corinne Maillot <c.maillot@jury.example>",
        "Patrick Fontaine <p.fontaine@jury.example>",
    }

    append(config, CANCELLATION)
    box.messages.clear()
    assert main(["notify", "--config", str(config), "--now", "2026-11-24T09:00+04:00"]) == 0
    cancels = [m for m in box.messages if str(m["Subject"]).startswith("Annulation : ")]
    assert sorted(str(m["To"]) for m in cancels) == [
        "Corinne Maillot <c.maillot@jury.example>",
        "Patrick Fontaine <p.fontaine@jury.example>",
    ]
    for cancel in cancels:
        assert str(cancel["Subject"]).startswith(
            "Annulation : Session d'examen TP-00374 Secrétaire assistant (TITRE)"
        )
        assert (
            "La session d'examen ci-dessous est annulée (session annulée le 24/11/2026 : "
            "Nombre de candidats insuffisant). Merci de la retirer de votre agenda."
        ) in text_of(cancel)

    # Friday 27 November: the J-14 reminder of « Commander le pli (DTE) » (due Friday 11
    # December) goes to the coordinator for the session as it was, not for the cancelled one.
    box.messages.clear()
    assert main(["notify", "--config", str(control), "--now", "2026-11-27T09:00+04:00"]) == 0
    reminded = [m for m in box.messages if "n.techer@afpar.example" in str(m["To"])]
    assert any(mentions_sa(m) for m in reminded), [str(m["Subject"]) for m in reminded]
    box.messages.clear()
    assert main(["notify", "--config", str(config), "--now", "2026-11-27T09:00+04:00"]) == 0
    assert not [m for m in box.messages if mentions_sa(m)]
    assert main(["notify", "--config", str(config), "--now", "2027-03-22T09:00+04:00"]) == 0
    assert not [m for m in box.messages if mentions_sa(m)], "no overdue alert after the dates"


# --- plan and validate --------------------------------------------------------------------------


def plan_rows(config: Path, now: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    argv = ["plan", SA, "--config", str(config), "--format", "json", "--now", now]
    assert main(argv) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return rows


def test_plan_shows_a_cancelled_session_and_validate_says_what_ceres_allows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    append(config, "  dte_order: 2026-11-20\n")  # under done:, the last block of the file
    append(config, CANCELLATION)
    rows = plan_rows(config, "2026-11-24", capsys)
    assert {r["status"] for r in rows if "reason" not in r} == {"cancelled"}
    dte = next(r for r in rows if r["milestone"] == "dte_order")
    assert (dte["due"], dte["done_on"], dte["status"]) == ("2026-12-11", "2026-11-20", "cancelled")

    assert main(["plan", SA, "--config", str(config), "--now", "2026-11-24"]) == 0
    table = capsys.readouterr().out
    assert "Session annulée le 24/11/2026 : Nombre de candidats insuffisant" in table
    assert "Annulé" in table

    assert (
        main(["validate", "--config", str(config), "--format", "json", "--now", "2026-11-24"]) == 0
    )
    found = [f for f in json.loads(capsys.readouterr().out) if f["session"] == SA]
    assert [(f["code"], f["severity"]) for f in found] == [("cancelled_after_dte_order", "warning")]
    message = found[0]["message"]
    assert message.startswith(
        "session annulée le 24/11/2026 (Nombre de candidats insuffisant) alors que le pli (DTE) "
        "a été commandé le 20/11/2026 : "
    )
    assert "CERES ne permet de supprimer une session qu'avant la commande du DTE" in message
    assert "DEETS de La Réunion (974.certification@deets.example)" in message


def test_plan_shows_what_a_postponement_asks_to_redo_and_the_ud_notice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    append(config, "  ud_session_declaration: 2026-11-20\n  jury_convocation: 2026-11-21\n")
    postpone(config)
    rows = {r["milestone"]: r for r in plan_rows(config, "2026-11-25", capsys)}
    assert (
        main(["validate", "--config", str(config), "--format", "json", "--now", "2026-11-25"]) == 0
    )
    (redo,) = [f for f in json.loads(capsys.readouterr().out) if f["code"] == "postponed_redo"]
    assert (redo["session"], redo["severity"]) == (SA, "warning")
    assert redo["message"].startswith(
        "session reportée le 24/11/2026 (Plateau technique indisponible) : du 15/03/2027 au "
        "19/03/2027 → du 12/04/2027 au 16/04/2027 ; à refaire pour les nouvelles dates : "
        "« Transmettre à la DEETS de La Réunion dates, lieu, nombre de candidats, responsable de "
        "session » (fait le 20/11/2026) ; « Désigner, inscrire et convoquer"
    )
    assert redo["message"].endswith(": DEETS de La Réunion (974.certification@deets.example)")

    declaration = rows["ud_session_declaration"]
    # 12/04/2027 − 92 days = Sunday 10/01/2027: the previous working day, Friday 8
    assert (declaration["status"], declaration["timing"], declaration["due"]) == (
        "redo",
        "pending",
        "2027-01-08",
    )
    assert (declaration["done_on"], declaration["redo_of"]) == (None, "2026-11-20")
    assert (rows["jury_convocation"]["status"], rows["jury_convocation"]["redo_of"]) == (
        "redo",
        "2026-11-21",
    )
    assert rows["ceres_session_create"]["status"] == "done"  # not about the dates: kept

    notice = rows["ud_postponement_notice"]
    # postponed Tuesday 24/11/2026: + 5 days is Sunday 29, the next working day Monday 30
    assert (notice["due"], notice["status"], notice["audience"]) == (
        "2026-11-30",
        "pending",
        ["coordinators"],
    )
    assert notice["title"] == "Informer la DEETS de La Réunion du report de la session"

    assert main(["plan", SA, "--config", str(config), "--now", "2026-11-25"]) == 0
    table = capsys.readouterr().out
    assert "À refaire (à venir)" in table
    assert (
        "Session reportée le 24/11/2026 (Plateau technique indisponible) : du 15/03/2027 au "
        "19/03/2027 → du 12/04/2027 au 16/04/2027"
    ) in table

    # marked done again after the postponement (in the store, over the file's old mark): done
    done = ["done", SA, "ud_session_declaration", "--config", str(config), "--by", "Nathalie"]
    assert main([*done, "--on", "2026-11-26", "--now", "2026-11-27"]) == 0
    rows = {r["milestone"]: r for r in plan_rows(config, "2026-11-27", capsys)}
    again = rows["ud_session_declaration"]
    assert (again["status"], again["done_on"], again["redo_of"]) == ("done", "2026-11-26", None)
    assert rows["jury_convocation"]["status"] == "redo"


def test_a_session_never_postponed_shows_the_ud_notice_as_sans_objet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    rows = {r["milestone"]: r for r in plan_rows(config, "2026-11-25", capsys)}
    notice = rows["ud_postponement_notice"]
    assert (notice["status"], notice["due"]) == ("not_applicable", None)
    assert notice["reason"] == "la session n'a pas été reportée (aucun report dans postponed)"


def test_a_cancellation_removed_from_the_file_is_kept_and_warned_then_the_jury_invited(
    inbox: tuple[Inbox, int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """« cancelled: » removed by hand: ``validate`` warns (file, field), first before a pass
    saw it, then with the day it was seen restored; the jury gets a new invitation as before;
    the store keeps the cancellation."""
    box, port = inbox
    config = write_config(tmp_path, smtp_port=port)
    assert main(["notify", "--config", str(config), "--now", "2026-11-23T09:00+04:00"]) == 0
    append(config, CANCELLATION)
    assert main(["notify", "--config", str(config), "--now", "2026-11-24T09:00+04:00"]) == 0
    path = session_file(config)
    capsys.readouterr()
    assert main(["validate", "--config", str(config), "--now", "2026-11-24T10:00+04:00"]) == 0
    assert "cancellation_lifted" not in capsys.readouterr().out  # cancelled: nothing to say
    path.write_text(path.read_text(encoding="utf-8").replace(CANCELLATION, ""), encoding="utf-8")

    assert main(["validate", "--config", str(config), "--now", "2026-11-25T09:00+04:00"]) == 0
    out = capsys.readouterr().out
    assert (
        f"{path}: avertissement: cancelled : la session a été annulée le 24/11/2026 (Nombre de "
        "candidats insuffisant) et son fichier ne le dit plus (« cancelled: » retiré) : au "
        "prochain passage, ses éléments d'agenda sont rétablis et le jury reçoit une nouvelle "
        "invitation ; si ce n'est pas voulu, remettre « cancelled: » dans le fichier "
        "[cancellation_lifted]"
    ) in out, out

    box.messages.clear()
    assert main(["notify", "--config", str(config), "--now", "2026-11-26T09:00+04:00"]) == 0
    invited = [m for m in box.messages if str(m["Subject"]).startswith("Invitation : ")]
    assert {str(m["To"]) for m in invited if "TP-00374" in str(m["Subject"])} >= {
        "Corinne Maillot <c.maillot@jury.example>",
        "Patrick Fontaine <p.fontaine@jury.example>",
    }
    argv = ["validate", "--config", str(config), "--format", "json"]
    capsys.readouterr()
    assert main([*argv, "--now", "2026-11-27T09:00+04:00"]) == 0
    (row,) = [r for r in json.loads(capsys.readouterr().out) if r["code"] == "cancellation_lifted"]
    assert row["severity"] == "warning"
    assert (
        "annulée le 24/11/2026 (Nombre de candidats insuffisant) puis rétablie le 26/11/2026"
        in (row["message"])
    )
    # past the session's end: no more warning (the trace stays on the session's page)
    assert main(["validate", "--config", str(config), "--now", "2027-03-22T09:00+04:00"]) == 0
    assert "cancellation_lifted" not in capsys.readouterr().out
