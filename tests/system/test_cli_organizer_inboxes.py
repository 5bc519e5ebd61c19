"""``syncsvc validate``: a centre whose organizer no read mailbox receives is said, by file,
centre and field (its jury's replies would never be recorded)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncsvc.cli import main

CENTRES = """\
st-andre:
  name: "AFPAR Saint-André"
  timezone: Indian/Reunion
  holiday_zone: "974"
  exam_office_email: examen.cfpae@afpar.example
  organizer: {st_andre}
  ud_email: 974.certification@deets.example
  sector: tertiaire
venissieux:
  name: "GRETA Lyon Métropole — site de Vénissieux"
  exam_office_email: examens.venissieux@greta-lyon.example
  ud_email: ddets-69-certification@ddets.example
  sector: btp
"""

SETTINGS = """\
[store]
url = "sqlite:///var/state.db"

[mail.inbox]
host = "imap.afpar.example"
username = "jury.st-andre@afpar.example"
password_env = "SYNCSVC_TEST_UNUSED"

[mail.inboxes.lyon]
host = "imap.greta-lyon.example"
username = "examens"
password_env = "SYNCSVC_TEST_UNUSED"
{lyon}
"""


def _config(root: Path, *, st_andre: str, lyon: str) -> Path:
    (root / "sessions").mkdir(parents=True)
    (root / "centres.yaml").write_text(CENTRES.format(st_andre=st_andre), encoding="utf-8")
    (root / "syncsvc.toml").write_text(SETTINGS.format(lyon=lyon), encoding="utf-8")
    return root


@pytest.fixture(autouse=True)
def _own_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SYNCSVC_SETTINGS", raising=False)


def test_text_names_the_file_the_centre_and_the_field_of_the_unread_organizer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Saint-André's organizer is read by [mail.inbox] (case aside); Vénissieux has none, so its
    # exam office's address is its organizer, and the Lyon mailbox receives another address.
    root = _config(
        tmp_path / "config",
        st_andre="Jury.St-Andre@AFPAR.example",
        lyon='address = "secretariat@greta-lyon.example"',
    )
    code = main(["validate", "--config", str(root), "--now", "2027-01-04"])
    out = capsys.readouterr().out
    assert code == 0  # a warning: the configuration still loads
    (line,) = [line for line in out.splitlines() if "[organizer_not_read]" in line]
    assert line.startswith(f"{root / 'centres.yaml'}: avertissement: centre « venissieux », ")
    assert (
        "organizer (non écrit : exam_office_email) « examens.venissieux@greta-lyon.example »"
        in line
    )
    assert "aucune boîte lue ([mail.inbox], [mail.inboxes.lyon]) ne reçoit cette adresse" in line
    assert "les réponses du jury n'y seront pas relevées" in line
    assert "dans syncsvc.toml" in line
    assert "st-andre" not in out
    assert out.splitlines()[-1].endswith("constats : 0 erreur(s), 1 avertissement(s)")
    # a warning, not an error finding: --strict keeps its meaning (error findings only)
    assert main(["validate", "--strict", "--config", str(root), "--now", "2027-01-04"]) == 0


def test_json_lists_it_as_a_warning_of_the_centre_without_session(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _config(
        tmp_path / "config",
        st_andre="jury.venissieux@greta-lyon.example",
        lyon='address = "examens.venissieux@greta-lyon.example"',
    )
    code = main(["validate", "--format", "json", "--config", str(root), "--now", "2027-01-04"])
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    (row,) = json.loads(out)
    assert row["session"] is None
    assert (row["centre"], row["code"], row["severity"]) == (
        "st-andre",
        "organizer_not_read",
        "warning",
    )
    assert row["message"].startswith(
        f"{root / 'centres.yaml'}, centre « st-andre », organizer "
        "« jury.venissieux@greta-lyon.example » : aucune boîte lue"
    )


def test_nothing_when_every_organizer_arrives_in_a_read_mailbox(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Vénissieux's exam office address is an alias of the Lyon mailbox
    root = _config(
        tmp_path / "config",
        st_andre="jury.st-andre@afpar.example",
        lyon='address = "secretariat@greta-lyon.example"\n'
        'aliases = ["EXAMENS.Venissieux@greta-lyon.example"]',
    )
    code = main(["validate", "--format", "json", "--config", str(root), "--now", "2027-01-04"])
    assert (code, capsys.readouterr()) == (0, ("[]\n", ""))
    assert main(["validate", "--config", str(root), "--now", "2027-01-04"]) == 0
    assert capsys.readouterr().out == (
        "0 session(s) chargée(s), 0 fichier(s) en erreur ; constats : 0 erreur(s), "
        "0 avertissement(s)\n"
    )


def test_a_mailbox_whose_address_is_unknown_is_asked_for_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # « examens » is a login, not an address: which centre it serves cannot be told
    root = _config(tmp_path / "config", st_andre="jury.st-andre@afpar.example", lyon="")
    main(["validate", "--config", str(root), "--now", "2027-01-04"])
    out = capsys.readouterr().out
    (line,) = [line for line in out.splitlines() if "[inbox_address_unknown]" in line]
    assert line.startswith(f"{root / 'syncsvc.toml'}: avertissement: [mail.inboxes.lyon] : ")
    assert 'address = "adresse@de.la.boite"' in line
    assert "[organizer_not_read]" not in out


def test_nothing_without_any_mailbox_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _config(tmp_path / "config", st_andre="jury.st-andre@afpar.example", lyon="")
    (root / "syncsvc.toml").write_text('[store]\nurl = "sqlite:///var/state.db"\n')
    code = main(["validate", "--format", "json", "--config", str(root), "--now", "2027-01-04"])
    assert (code, capsys.readouterr()) == (0, ("[]\n", ""))
