"""Every entry of ``config/sessions/`` is accounted for: loaded, or reported as a problem.

A session file that is present but cannot be used must keep its calendar events: its id lands in
``Config.broken_session_ids`` (from the file name, and from the id written inside when the file
could be read), or the file lands in ``Config.unreadable_files`` so that the store can say which
session it held. The only entries ignored are those whose name starts with a dot (editors'
swap and lock files). Special files are never opened, symlinks leaving the configuration folder
are never followed, and a refused file's message shows nothing of its content.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from syncsvc.app.sync import protected_in
from syncsvc.core.config import Config
from syncsvc.errors import Problem
from syncsvc.inputs.loader import load_config
from syncsvc.state.store import Store
from tests.inputs.test_loader import SESSION_ID, make_config, only_problem, session

SECRET = "secret-user: $6$sel$hachedumotdepasse"


def entries_of(config: Config, file: Path | str) -> list[Problem]:
    return [p for p in config.problems if p.file == str(file)]


def assert_refused(config: Config, file: Path | str, *words: str) -> Problem:
    """``file`` is reported once, in French, with what is expected, and never loaded."""
    problem = only_problem(config, Path(file))
    assert "attendu" in problem.message
    for word in words:
        assert word in problem.message, problem.message
    assert config.sessions == {}
    return problem


def with_good(tmp_path: Path) -> Path:
    """A folder holding one good session file (so a problem cannot empty it)."""
    return make_config(tmp_path, {"bonne-session.yaml": session("bonne-session")})


# --- symlinks ----------------------------------------------------------------------------------


def test_symlink_to_a_missing_file_is_reported_and_keeps_its_session(tmp_path: Path) -> None:
    root = make_config(tmp_path, {})
    link = root / "sessions" / f"{SESSION_ID}.yaml"
    link.symlink_to("/mnt/absent/sa.yaml")

    config = load_config(root)

    assert_refused(config, link, "lien symbolique")
    assert config.broken_session_ids == {SESSION_ID}
    assert config.unreadable_files == [str(link)]


def test_dangling_symlink_inside_the_folder_is_reported(tmp_path: Path) -> None:
    root = make_config(tmp_path, {})
    link = root / "sessions" / f"{SESSION_ID}.yaml"
    link.symlink_to(root / "archives" / "absent.yaml")

    config = load_config(root)

    assert_refused(config, link, "lien symbolique")
    assert config.broken_session_ids == {SESSION_ID}


def test_symlink_loop_is_reported(tmp_path: Path) -> None:
    root = make_config(tmp_path, {})
    first = root / "sessions" / f"{SESSION_ID}.yaml"
    second = root / "sessions" / "boucle.yaml"
    first.symlink_to(second)
    second.symlink_to(first)

    config = load_config(root)

    assert {p.file for p in config.problems} == {str(first), str(second)}
    for problem in config.problems:
        assert "lien symbolique" in problem.message
        assert "attendu" in problem.message
    assert config.broken_session_ids == {SESSION_ID, "boucle"}


def test_symlink_to_a_directory_is_reported(tmp_path: Path) -> None:
    root = make_config(tmp_path, {})
    (root / "archives").mkdir()
    link = root / "sessions" / f"{SESSION_ID}.yaml"
    link.symlink_to(root / "archives")

    config = load_config(root)

    assert_refused(config, link, "dossier")
    assert config.broken_session_ids == {SESSION_ID}


def test_symlink_to_a_device_is_refused_without_reading(tmp_path: Path) -> None:
    root = make_config(tmp_path, {})
    link = root / "sessions" / f"{SESSION_ID}.yaml"
    link.symlink_to("/dev/zero")

    config = load_config(root)

    assert_refused(config, link, "hors du dossier de configuration")
    assert config.broken_session_ids == {SESSION_ID}


def test_symlink_out_of_the_folder_is_refused_and_shows_nothing(tmp_path: Path) -> None:
    outside = tmp_path / "shadow"
    outside.write_text(f"{SECRET}\nautre: {SECRET}\n", encoding="utf-8")
    root = make_config(tmp_path, {})
    link = root / "sessions" / f"{SESSION_ID}.yaml"
    link.symlink_to(outside)

    config = load_config(root)

    problem = assert_refused(config, link, "hors du dossier de configuration")
    assert "secret" not in str(problem)
    assert "hache" not in str(problem)
    assert config.broken_session_ids == {SESSION_ID}
    assert config.file_ids == {}


def test_symlink_to_a_file_inside_the_folder_is_followed(tmp_path: Path) -> None:
    root = make_config(tmp_path, {})
    (root / "partage").mkdir()
    (root / "partage" / "sa.yaml").write_text(session(), encoding="utf-8")
    (root / "sessions" / f"{SESSION_ID}.yaml").symlink_to(Path("..") / "partage" / "sa.yaml")

    config = load_config(root)

    assert config.problems == []
    assert list(config.sessions) == [SESSION_ID]


# --- entries that are not regular files --------------------------------------------------------


def test_directory_named_like_a_session_is_reported(tmp_path: Path) -> None:
    root = with_good(tmp_path)
    folder = root / "sessions" / f"{SESSION_ID}.yaml"
    folder.mkdir()

    config = load_config(root)

    problem = only_problem(config, folder)
    assert "dossier" in problem.message
    assert "attendu" in problem.message
    assert list(config.sessions) == ["bonne-session"]
    assert config.broken_session_ids == {SESSION_ID}


def test_fifo_is_refused_without_being_opened(tmp_path: Path) -> None:
    root = with_good(tmp_path)
    fifo = root / "sessions" / f"{SESSION_ID}.yaml"
    os.mkfifo(fifo)

    config = load_config(root)  # opening the FIFO would block: it must not be opened

    problem = only_problem(config, fifo)
    assert "tube" in problem.message
    assert "attendu" in problem.message
    assert config.broken_session_ids == {SESSION_ID}
    assert config.unreadable_files == [str(fifo)]


def test_file_larger_than_1_mb_is_refused_unread(tmp_path: Path) -> None:
    text = session() + f"# {SECRET}\n" * 40_000
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml": text})
    file = root / "sessions" / f"{SESSION_ID}.yaml"

    config = load_config(root)

    problem = assert_refused(config, file, "1 Mo")
    assert "secret" not in str(problem)
    assert config.broken_session_ids == {SESSION_ID}


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stem"),
    [
        pytest.param(f"{SESSION_ID}.YAML", SESSION_ID, id="upper-case-suffix"),
        pytest.param(f"{SESSION_ID}.yaml~", SESSION_ID, id="editor-backup"),
        pytest.param(f"{SESSION_ID}.yaml.bak", SESSION_ID, id="bak"),
        pytest.param(SESSION_ID, SESSION_ID, id="no-suffix"),
        pytest.param("notes.txt", "notes", id="other-extension"),
    ],
)
def test_file_with_another_suffix_is_reported_and_keeps_its_session(
    tmp_path: Path, name: str, stem: str
) -> None:
    root = make_config(tmp_path, {name: session("id-ecrit-dedans")})
    file = root / "sessions" / name

    config = load_config(root)

    problem = only_problem(config, file)
    assert problem.field == ""
    assert "n'est pas un fichier de session" in problem.message
    assert "attendu : <identifiant>.yaml" in problem.message
    assert config.sessions == {}
    # protected by its name and by the id read inside
    assert config.broken_session_ids == {stem, "id-ecrit-dedans"}


def test_file_with_another_suffix_and_no_readable_id_is_unreadable(tmp_path: Path) -> None:
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml~": "nature: [titre\n"})
    file = root / "sessions" / f"{SESSION_ID}.yaml~"

    config = load_config(root)

    only_problem(config, file)
    assert config.broken_session_ids == {SESSION_ID}
    assert config.unreadable_files == [str(file)]


def test_file_named_with_an_invalid_id_is_reported(tmp_path: Path) -> None:
    root = make_config(tmp_path, {"Session SA 2027.yaml": session()})
    file = root / "sessions" / "Session SA 2027.yaml"

    config = load_config(root)

    problems = entries_of(config, file)
    assert [p.field for p in problems] == [""]
    assert "nom de fichier" in problems[0].message
    assert "attendu" in problems[0].message
    assert config.sessions == {}
    assert config.broken_session_ids == {"Session SA 2027", SESSION_ID}


def test_non_utf8_file_name_is_reported_with_an_escaped_name(tmp_path: Path) -> None:
    root = with_good(tmp_path)
    raw = os.fsencode(root / "sessions") + b"/s\xe9ance.yaml"
    with open(raw, "wb") as out:
        out.write(session().encode("utf-8"))

    config = load_config(root)

    [problem] = config.problems
    line = str(problem)
    line.encode("utf-8")  # printable: no lone surrogate
    assert problem.file == str(root / "sessions" / "s\\xe9ance.yaml")
    assert "nom de fichier" in problem.message
    assert list(config.sessions) == ["bonne-session"]
    assert SESSION_ID in config.broken_session_ids
    for text in (*config.broken_session_ids, *config.file_ids, *config.unreadable_files):
        text.encode("utf-8")


def test_file_name_with_a_line_break_is_reported_on_one_line(tmp_path: Path) -> None:
    root = make_config(tmp_path, {"sa\n2027.yaml": session()})

    config = load_config(root)

    [problem] = config.problems
    assert "\n" not in str(problem)
    assert problem.file.endswith("sa\\n2027.yaml")


def test_hidden_entries_are_the_only_ones_ignored(tmp_path: Path) -> None:
    root = make_config(
        tmp_path,
        {
            f"{SESSION_ID}.yaml": session(),
            f".{SESSION_ID}.yaml.swp": "\x00binaire",
            ".#verrou.yaml": "nature: [",
        },
    )
    os.mkfifo(root / "sessions" / ".fifo-cachee")

    config = load_config(root)

    assert config.problems == []
    assert list(config.sessions) == [SESSION_ID]


# --- centres.yaml is read the same careful way ------------------------------------------------


def test_centres_file_symlinked_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "shadow"
    outside.write_text(f"{SECRET}\n", encoding="utf-8")
    root = make_config(tmp_path, {})
    centres = root / "centres.yaml"
    centres.unlink()
    centres.symlink_to(outside)

    config = load_config(root)

    [problem] = config.problems
    assert problem.file == str(centres)
    assert "hors du dossier de configuration" in problem.message
    assert "secret" not in str(problem)
    assert config.structure_broken


def test_centres_file_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    root = make_config(tmp_path, {})
    centres = root / "centres.yaml"
    centres.unlink()
    os.mkfifo(centres)

    config = load_config(root)

    [problem] = config.problems
    assert problem.file == str(centres)
    assert "tube" in problem.message
    assert config.structure_broken


# --- the end effect: a broken entry protects its session's events ------------------------------


def test_session_whose_file_became_a_dangling_symlink_stays_protected(tmp_path: Path) -> None:
    root = make_config(tmp_path, {f"{SESSION_ID}.yaml": session()})
    file = root / "sessions" / f"{SESSION_ID}.yaml"
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    store.migrate()
    try:
        assert protected_in(load_config(root), store) == frozenset()
        file.unlink()
        file.symlink_to("/mnt/absent/sa.yaml")
        backup = root / "sessions" / "sa-copie.yaml~"
        backup.write_text(session("sa-autre-2027"), encoding="utf-8")

        config = load_config(root)

        assert {Path(p.file).name for p in config.problems} == {file.name, backup.name}
        assert protected_in(config, store) == {SESSION_ID, "sa-copie", "sa-autre-2027"}
    finally:
        store.close()
