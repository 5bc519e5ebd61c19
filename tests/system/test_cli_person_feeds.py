"""``syncsvc feeds`` with ``[feeds] per_person = true``: every convened person's agenda link
listed after the configured feeds (on standard output, never in a log line), ``--rotate
<e-mail>`` replaces one person's link."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from syncsvc.app.feeds import person_key
from syncsvc.cli import main
from syncsvc.state.store import Store
from tests.harness.convened import LINE, PAUL, convened_config

PUBLIC = "https://examens.example.org"


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _config(tmp_path: Path, per_person: bool) -> Path:
    config = convened_config(tmp_path).directory
    settings = config / "syncsvc.toml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace("sqlite:///var/syncsvc.db", f"sqlite:///{tmp_path / 'state.db'}", 1)
    text = text.replace('base_url = "http://127.0.0.1:8080"', f'base_url = "{PUBLIC}"', 1)
    if per_person:
        text = text.replace("[feeds]\n", "[feeds]\nper_person = true\n", 1)
    settings.write_text(text, encoding="utf-8")
    return config


def _lines(out: str) -> dict[str, str]:
    return {
        line.split("\t")[1]: line.split("\t")[2]
        for line in out.splitlines()
        if line.startswith("personne\t")
    }


def test_feeds_lists_every_convened_person_and_rotates_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    config = _config(tmp_path, per_person=True)
    caplog.set_level(logging.DEBUG)
    code, out, _err = _run(capsys, "feeds", "--config", str(config), "--now", "2027-02-08")
    assert code == 0, out
    people = _lines(out)
    assert LINE in people
    assert PAUL in people
    assert "flux-jury-maillot\t" in out  # the configured feeds first, as before
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        for who, link in people.items():
            assert link.startswith(f"{PUBLIC}/feeds/")
            assert link.endswith(".ics")
            token = link.removeprefix(f"{PUBLIC}/feeds/").removesuffix(".ics")
            assert store.feed_for_token(token) == person_key(who)
        code, out, _err = _run(capsys, "feeds", "--config", str(config), "--rotate", LINE.upper())
        assert code == 0
        after = _lines(out)
        assert after[LINE] != people[LINE]
        assert after[PAUL] == people[PAUL]
        old = people[LINE].removeprefix(f"{PUBLIC}/feeds/").removesuffix(".ics")
        assert store.feed_for_token(old) is None
    finally:
        store.close()
    for record in caplog.records:  # the links are printed, never logged
        assert "/feeds/" not in record.getMessage()
        for link in (*people.values(), *after.values()):
            assert link.rsplit("/", 1)[1] not in record.getMessage()
    code, _out, err = _run(
        capsys, "feeds", "--config", str(config), "--rotate", "personne@nulle-part.example"
    )
    assert code != 0
    assert "personne@nulle-part.example" in err
    assert "convoquée" in err


def test_without_per_person_no_person_is_listed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path, per_person=False)
    code, out, _err = _run(capsys, "feeds", "--config", str(config))
    assert code == 0
    assert "flux-jury-maillot\t" in out
    assert _lines(out) == {}
