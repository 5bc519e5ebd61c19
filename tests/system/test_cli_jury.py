"""``syncsvc inbox --once`` and ``syncsvc jury`` on the example configuration, with the
invitations sent through the in-test SMTP server and the replies in a real Dovecot; and a
``syncsvc inbox`` killed with SIGKILL while it reads, then run again: each reply once."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from syncsvc.cli import main
from tests.harness.dovecot import PASSWORD, ImapServer
from tests.system.service import Inbox, wait_for

ROOT = Path(__file__).resolve().parents[2]
REPLIES = ROOT / "tests" / "formats" / "data" / "replies"
DWWM = "dwwm-2027-06-venissieux"
PASSWORD_ENV = "SYNCSVC_TEST_IMAP_PASSWORD"
PROCESSED = "Réponses jury traitées"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Setup:
    config: Path
    store: Path
    imap: ImapServer
    user: str


@pytest.fixture
def setup(
    tmp_path: Path,
    inbox: tuple[Inbox, int],
    dovecot: ImapServer,
    imap_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Setup:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    store = tmp_path / "state.db"
    (config / "syncsvc.toml").write_text(
        f"""
[store]
url = "sqlite:///{store}"

[daemon]
lease_seconds = 4

[mail]
transport = "smtp"
host = "127.0.0.1"
port = {inbox[1]}
from = "Examens <examens@greta-lyon.example>"
rate_per_minute = 100000

[mail.inbox]
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{imap_user}"
password_env = "{PASSWORD_ENV}"
""",
        encoding="utf-8",
    )
    assert main(["notify", "--config", str(config), "--now", "2026-11-23T09:00+01:00"]) == 0
    assert any("Invitation" in str(m["Subject"]) for m in inbox[0].messages)
    return Setup(config, store, dovecot, imap_user)


def test_inbox_once_then_jury_shows_who_answered(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    setup.imap.append(setup.user, (REPLIES / "outlook-accepted.eml").read_bytes())
    setup.imap.append(setup.user, (REPLIES / "thunderbird-declined.eml").read_bytes())
    capsys.readouterr()
    code = main(["inbox", "--once", "--config", str(setup.config), "--now", "2026-12-05"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"{DWWM} : t.girard@jury.example — ACCEPTED (applied)" in out
    assert f"{DWWM} : y.haddad@jury.example — DECLINED (applied)" in out
    assert "2 message(s) lu(s), 2 réponse(s) enregistrée(s) (0 déjà connue(s))" in out

    assert main(["jury", DWWM, "--config", str(setup.config), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["email"], r["partstat"], r["sequence"]) for r in rows] == [
        ("e.lefevre@jury.example", "NEEDS-ACTION", 0),
        ("t.girard@jury.example", "ACCEPTED", 0),
        ("y.haddad@jury.example", "DECLINED", 0),
    ]
    assert {"session", "email", "name", "partstat", "replied_at", "sequence"} <= set(rows[0])
    assert rows[0]["replied_at"] is None
    assert rows[1]["replied_at"] == "2026-12-02T09:15:12+00:00"
    assert rows[1]["name"] == "Thomas Girard"

    assert main(["jury", "--config", str(setup.config)]) == 0
    table = ANSI.sub("", capsys.readouterr().out)
    assert "Jury : invitations et réponses" in table
    assert re.search(r"Thomas Girard .* accepté", table)
    assert re.search(r"Yasmina Haddad .* refusé", table)
    assert re.search(r"Corinne Maillot .* sans réponse", table)


def test_inbox_needs_once_and_a_configured_inbox(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inbox", "--config", str(setup.config)]) == 2
    assert "--once" in capsys.readouterr().err
    toml = setup.config / "syncsvc.toml"
    toml.write_text(toml.read_text().split("[mail.inbox]")[0], encoding="utf-8")
    assert main(["inbox", "--once", "--config", str(setup.config)]) == 2
    assert "aucune boîte de réception configurée" in capsys.readouterr().err
    assert main(["jury", "inconnue", "--config", str(setup.config)]) == 2
    assert "session « inconnue » inconnue" in capsys.readouterr().err


def test_inbox_once_reads_every_centre_s_mailbox(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second centre's exam office has its own mailbox ([mail.inboxes.<name>]): both are
    read, each from where it stopped; a mailbox that cannot be read does not stop the other."""
    other = setup.imap.add_user()
    toml = setup.config / "syncsvc.toml"
    second = f"""
[mail.inboxes.st-andre]
host = "{setup.imap.host}"
port = {setup.imap.port}
security = "none"
username = "{other}"
password_env = "{PASSWORD_ENV}"
"""
    toml.write_text(toml.read_text() + second, encoding="utf-8")
    setup.imap.append(setup.user, (REPLIES / "outlook-accepted.eml").read_bytes())
    setup.imap.append(other, (REPLIES / "thunderbird-declined.eml").read_bytes())
    capsys.readouterr()

    assert main(["inbox", "--once", "--config", str(setup.config), "--now", "2026-12-05"]) == 0

    out = capsys.readouterr().out
    assert f"{DWWM} : t.girard@jury.example — ACCEPTED (applied)" in out
    assert f"{DWWM} : y.haddad@jury.example — DECLINED (applied)" in out
    assert f"mail.inbox ({setup.user}), boîte « INBOX » : 1 message(s) lu(s)" in out
    assert f"mail.inboxes.st-andre ({other}), boîte « INBOX » : 1 message(s) lu(s)" in out
    assert len(setup.imap.messages(other, PROCESSED)) == 1
    # each mailbox goes on from where it stopped
    setup.imap.append(other, (REPLIES / "gmail-accepted.eml").read_bytes())
    assert main(["inbox", "--once", "--config", str(setup.config), "--now", "2026-12-05"]) == 0
    out = capsys.readouterr().out
    assert f"mail.inbox ({setup.user}), boîte « INBOX » : 0 message(s) lu(s)" in out
    assert f"mail.inboxes.st-andre ({other}), boîte « INBOX » : 1 message(s) lu(s)" in out
    # the first mailbox refuses its login: the second is read all the same
    toml.write_text(
        toml.read_text().replace(f'username = "{setup.user}"', 'username = "inconnu"', 1),
        encoding="utf-8",
    )
    setup.imap.append(other, (REPLIES / "apple-mail-tentative.eml").read_bytes())
    assert main(["inbox", "--once", "--config", str(setup.config), "--now", "2026-12-05"]) == 1
    captured = capsys.readouterr()
    assert "mail.inbox (inconnu), boîte « INBOX » illisible : serveur IMAP" in captured.err
    assert "identifiant ou mot de passe refusé pour inconnu" in captured.err
    assert f"mail.inboxes.st-andre ({other}), boîte « INBOX » : 1 message(s) lu(s)" in captured.out


def _many(count: int) -> list[bytes]:
    """``count`` distinct replies (their own Message-ID each), of the three jurors in turn."""
    sources = [
        (REPLIES / name).read_bytes()
        for name in ("outlook-accepted.eml", "gmail-accepted.eml", "thunderbird-declined.eml")
    ]
    out = []
    for n in range(count):
        data = sources[n % 3]
        data = re.sub(rb"Message-I[Dd]: <[^>]+>", f"Message-ID: <r{n}@kill.example>".encode(), data)
        out.append(data)
    return out


def _recorded(store: Path) -> int:
    try:
        with sqlite3.connect(store, timeout=5) as db:
            return int(db.execute("SELECT count(*) FROM jury_replies").fetchone()[0])
    except sqlite3.OperationalError:
        return 0


def test_killed_while_reading_then_run_again_records_each_reply_once(setup: Setup) -> None:
    count = 400
    setup.imap.append_many(setup.user, _many(count))
    argv = [
        sys.executable,
        "-c",
        "from syncsvc.cli import main; raise SystemExit(main())",
        "inbox",
        "--once",
        "--config",
        str(setup.config),
        "--now",
        "2026-12-05",
    ]
    first = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for("the first replies recorded", lambda: _recorded(setup.store) >= 60, 60)
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(10)
    assert first.returncode == -signal.SIGKILL
    midway = _recorded(setup.store)
    assert 0 < midway < count, "killed mid-way"
    left = len(setup.imap.messages(setup.user))
    assert left > 0

    again = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(setup.store) as db:
        keys = [k for (k,) in db.execute("SELECT key FROM jury_replies")]
        ids = [m for (m,) in db.execute("SELECT message_id FROM jury_replies")]
    assert len(keys) == len(set(keys)) == count
    assert sorted(ids) == sorted(f"<r{n}@kill.example>" for n in range(count))
    assert setup.imap.messages(setup.user) == []
    assert len(setup.imap.messages(setup.user, PROCESSED)) == count  # moved, none deleted
