"""« Annuaire du jury »: retiring a juror, changing a juror's address, and who may do either
(over HTTP, against the example ``config/``; the clock is 08/02/2027, every session to come)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncsvc.app.notify import notify
from syncsvc.inputs.loader import load_config
from syncsvc.inputs.settings import MailSettings, Settings
from tests.web.conftest import (
    NOW,
    OTHER,
    OTHER_PASSWORD,
    SECRET,
    SECRET_ENV,
    USER,
    Served,
    csrf_of,
    serve,
    web_settings,
)
from tests.web.test_candidate_privacy import _with_roles
from tests.web.test_config_pages import text_of

HOAREAU = "s.hoareau@jury.example"  # on no session
LEFEVRE = "e.lefevre@jury.example"  # taken from the directory by dwwm (Vénissieux, June 2027)
GIRARD = "t.girard@jury.example"  # idem
DWWM_ID = "dwwm-2027-06-venissieux"
DWWM = f"sessions/{DWWM_ID}.yaml"
_VERSIONS = re.compile(r'name="versions" value="([^"]*)"')
_VERSION = re.compile(r'name="version" value="([^"]*)"')


def retire(client: httpx.Client, email: str) -> httpx.Response:
    page = client.get(f"/annuaire-jury/retirer?email={email}")
    assert page.status_code == 200, page.text
    found = _VERSION.search(page.text)
    assert found is not None, text_of(page.text)
    data = {"csrf": csrf_of(page.text), "version": found.group(1), "email": email}
    return client.post("/annuaire-jury/retirer", data=data)


def readdress(
    client: httpx.Client, email: str, new: str, before_post: object = None
) -> httpx.Response:
    page = client.get(f"/annuaire-jury/adresse?email={email}")
    assert page.status_code == 200, page.text
    found = _VERSIONS.search(page.text)
    assert found is not None
    if callable(before_post):
        before_post()
    data = {
        "csrf": csrf_of(page.text),
        "versions": found.group(1).replace("&#34;", '"'),
        "email": email,
        "new_email": new,
    }
    return client.post("/annuaire-jury/adresse", data=data)


def cancel_dwwm(served: Served) -> None:
    path = served.config / DWWM
    path.write_text(path.read_text(encoding="utf-8") + "cancelled: true\n", encoding="utf-8")


# --- retiring ------------------------------------------------------------------------------------


def test_a_juror_of_a_session_to_come_cannot_be_retired(served: Served) -> None:
    directory = served.config / "jury.yaml"
    before = directory.read_bytes()
    with served.logged_in() as client:
        page = client.get(f"/annuaire-jury/retirer?email={LEFEVRE}")
        assert page.status_code == 200
        text = text_of(page.text)
        assert "Retrait impossible" in text
        assert "DWWM" in text
        assert "07/06/2027" in text
        assert 'action="/annuaire-jury/retirer"' not in page.text  # no button
        forged = client.post(
            "/annuaire-jury/retirer",
            data={"csrf": csrf_of(page.text), "version": "x", "email": LEFEVRE},
        )
    assert forged.status_code == 409
    assert "Retrait impossible" in text_of(forged.text)
    assert directory.read_bytes() == before


def test_a_juror_on_no_session_leaves_the_file_the_rest_kept(served: Served) -> None:
    directory = served.config / "jury.yaml"
    before = directory.read_text(encoding="utf-8")
    with served.logged_in() as client:
        page = client.get(f"/annuaire-jury/retirer?email={HOAREAU}")
        assert "Aucune session ne cite ce membre du jury" in text_of(page.text)
        assert "sera supprimée de jury.yaml" in text_of(page.text)
        done = retire(client, HOAREAU)
        assert done.status_code == 303
        listing = client.get(done.headers["location"])
    assert f"{HOAREAU} est retiré(e) de l'annuaire." in text_of(listing.text)
    assert f'data-email="{HOAREAU}"' not in listing.text
    after = directory.read_text(encoding="utf-8")
    assert HOAREAU not in after
    # every other line (comments, order, spelling) is as it was
    assert after.strip() == before.split(f"{HOAREAU}:")[0].strip()
    config = load_config(served.config)
    assert config.problems == []
    assert HOAREAU not in config.jury.jurors
    (entry,) = served.store.audit_trail()
    assert entry.action == "jury_directory_retire"


def test_a_juror_a_cancelled_session_takes_from_the_directory_stays_marked(
    served: Served,
) -> None:
    cancel_dwwm(served)
    with served.logged_in() as client:
        page = client.get(f"/annuaire-jury/retirer?email={LEFEVRE}")
        text = text_of(page.text)
        assert "Sessions passées ou annulées qui le citent" in text
        assert "Son entrée reste dans jury.yaml" in text
        assert "marquée retirée" in text
        done = retire(client, LEFEVRE)
        assert done.status_code == 303
        listing = client.get(done.headers["location"])
        form = client.get("/nouvelle-session")
    config = load_config(served.config)
    assert config.problems == []  # the cancelled session still loads, with its juror
    assert config.jury.jurors[LEFEVRE].retired_on == NOW.date()
    assert LEFEVRE in {j.email for j in config.sessions["dwwm-2027-06-venissieux"].jury}
    assert "retired_on: 2027-02-08" in (served.config / "jury.yaml").read_text(encoding="utf-8")
    listing_text = text_of(listing.text)
    assert "marquée retirée" in listing_text
    assert "Membres retirés (1)" in listing_text
    members = listing.text.split('id="membres"')[1].split("</section>")[0]
    assert LEFEVRE not in members
    assert form.status_code == 200
    assert LEFEVRE not in form.text  # the session form no longer offers the juror


# --- reactivating -------------------------------------------------------------------------------


def reactivate(client: httpx.Client, email: str, before_post: object = None) -> httpx.Response:
    page = client.get("/annuaire-jury")
    assert page.status_code == 200
    retired = page.text.split('id="retires"')[1].split("</section>")[0]
    assert 'action="/annuaire-jury/reactiver"' in retired
    found = _VERSION.search(retired)
    assert found is not None
    if callable(before_post):
        before_post()
    data = {"csrf": csrf_of(page.text), "version": found.group(1), "email": email}
    return client.post("/annuaire-jury/reactiver", data=data)


def test_a_retired_juror_is_reactivated_the_file_as_before(served: Served) -> None:
    cancel_dwwm(served)
    directory = served.config / "jury.yaml"
    before = directory.read_text(encoding="utf-8")
    with served.logged_in() as client:
        assert retire(client, LEFEVRE).status_code == 303
        assert "retired_on:" in directory.read_text(encoding="utf-8")
        done = reactivate(client, LEFEVRE)
        assert done.status_code == 303, text_of(done.text)
        listing = client.get(done.headers["location"])
        form = client.get("/nouvelle-session")
    after = directory.read_text(encoding="utf-8")
    assert "retired_on" not in after
    assert after == before  # comments, order and spelling kept
    config = load_config(served.config)
    assert config.problems == []
    assert config.jury.jurors[LEFEVRE].retired_on is None
    text = text_of(listing.text)
    assert f"{LEFEVRE} est réactivé(e) : de nouveau parmi les membres" in text
    assert 'id="retires"' not in listing.text
    members = listing.text.split('id="membres"')[1].split("</section>")[0]
    assert f'data-email="{LEFEVRE}"' in members
    assert form.status_code == 200
    assert LEFEVRE in form.text  # offered again in the session form
    actions = [e.action for e in served.store.audit_trail()]
    assert sorted(actions) == ["jury_directory_reactivate", "jury_directory_retire"]
    (entry,) = [e for e in served.store.audit_trail() if e.action == "jury_directory_reactivate"]
    assert (entry.user, entry.file) == (USER, "jury.yaml")
    assert any(c[0].endswith("retired_on") and c[2] is None for c in entry.changes)


def test_a_stale_version_reactivates_nothing(served: Served) -> None:
    cancel_dwwm(served)
    directory = served.config / "jury.yaml"

    def touch() -> None:
        directory.write_text(
            directory.read_text(encoding="utf-8") + "# edited meanwhile\n", encoding="utf-8"
        )

    with served.logged_in() as client:
        assert retire(client, LEFEVRE).status_code == 303
        refused = reactivate(client, LEFEVRE, touch)
    assert refused.status_code == 409
    assert "Modification en conflit" in text_of(refused.text)
    after = directory.read_text(encoding="utf-8")
    assert "retired_on: 2027-02-08" in after
    assert after.endswith("# edited meanwhile\n")
    assert [e.action for e in served.store.audit_trail()] == ["jury_directory_retire"]


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """USER is an administrator, OTHER a viewer."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, lambda c: _with_roles(c, **{USER: "admin", OTHER: "viewer"})) as s:
        yield s


def test_a_viewer_cannot_reactivate(roles: Served) -> None:
    cancel_dwwm(roles)
    directory = roles.config / "jury.yaml"
    with roles.logged_in() as client:
        assert retire(client, LEFEVRE).status_code == 303
    before = directory.read_bytes()
    with roles.logged_in(OTHER, OTHER_PASSWORD) as client:
        page = client.get("/annuaire-jury")
        assert "Membres retirés (1)" in text_of(page.text)
        assert "/annuaire-jury/reactiver" not in page.text  # no button
        version = _VERSION.search(page.text)
        refused = client.post(
            "/annuaire-jury/reactiver",
            data={
                "csrf": csrf_of(page.text),
                "version": version.group(1) if version else "x",
                "email": LEFEVRE,
            },
        )
    assert refused.status_code == 403
    assert directory.read_bytes() == before
    assert [e.action for e in roles.store.audit_trail()] == ["jury_directory_retire"]


# --- changing an address -------------------------------------------------------------------------


def test_an_address_changes_in_the_directory_and_in_its_sessions(served: Served) -> None:
    new = "thomas.girard@esn-rhone.example"
    directory = served.config / "jury.yaml"
    before = directory.read_text(encoding="utf-8")
    with served.logged_in() as client:
        page = client.get(f"/annuaire-jury/adresse?email={GIRARD}")
        files = page.text.split('id="fichiers"')[1].split("</section>")[0]
        assert "Fichiers modifiés (2)" in text_of(files)
        assert "jury.yaml" in files
        assert DWWM in files
        done = readdress(client, GIRARD, new)
        assert done.status_code == 303, text_of(done.text)
        listing = client.get(done.headers["location"])
    assert f"Adresse changée : {GIRARD} → {new}." in text_of(listing.text)
    after = directory.read_text(encoding="utf-8")
    assert after == before.replace(f"{GIRARD}:", f"{new}:")  # same place, same comments
    session_text = (served.config / DWWM).read_text(encoding="utf-8")
    assert f"{{email: {new}}}" in session_text
    assert GIRARD not in session_text
    assert "# taken from the jury directory" in session_text
    config = load_config(served.config)
    assert config.problems == []
    assert new in config.jury.jurors
    assert GIRARD not in config.jury.jurors
    assert new in {j.email for j in config.sessions["dwwm-2027-06-venissieux"].jury}
    assert {e.file for e in served.store.audit_trail()} == {"jury.yaml", DWWM}


def test_an_address_already_in_the_directory_is_refused(served: Served) -> None:
    before = (served.config / "jury.yaml").read_bytes()
    with served.logged_in() as client:
        refused = readdress(client, GIRARD, LEFEVRE)
    assert refused.status_code == 400
    assert "adresse déjà présente dans l'annuaire" in text_of(refused.text)
    assert (served.config / "jury.yaml").read_bytes() == before


def test_a_session_changed_meanwhile_writes_nothing(served: Served) -> None:
    directory = served.config / "jury.yaml"
    before = directory.read_bytes()
    session = served.config / DWWM

    def touch() -> None:
        session.write_text(session.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")

    with served.logged_in() as client:
        refused = readdress(client, GIRARD, "t.g@new.example", touch)
    assert refused.status_code == 409
    assert directory.read_bytes() == before  # checked before anything is written
    assert GIRARD in session.read_text(encoding="utf-8")
    assert served.store.audit_trail() == []


def test_the_old_address_gets_a_cancel_and_the_new_one_an_invitation(
    served: Served, tmp_path: Path
) -> None:
    new = "thomas.girard@esn-rhone.example"
    settings = served.settings.model_copy(
        update={"mail": MailSettings(transport="maildir", maildir=tmp_path / "mail")}
    )

    def pass_() -> dict[str, str]:
        before = {r.id for r in served.store.messages()}
        notify(settings, load_config(served.config), served.store, NOW)
        rows = [r for r in served.store.messages() if r.id not in before]
        return {
            r.recipient: r.key for r in rows if r.session_id == DWWM_ID and r.kind == "invitation"
        }

    first = pass_()
    assert f"invitation:{DWWM_ID}:{GIRARD}:REQUEST:0" in first.values()
    with served.logged_in() as client:
        assert readdress(client, GIRARD, new).status_code == 303
    second = pass_()
    assert sorted(second.values()) == [
        f"invitation:{DWWM_ID}:{GIRARD}:CANCEL:1",
        f"invitation:{DWWM_ID}:{new}:REQUEST:0",
    ]


# --- roles ---------------------------------------------------------------------------------------


def _strasbourg_only(config: Path) -> Settings:
    settings = web_settings(config)
    users = tuple(
        u.model_copy(update={"centres": ("afpa-strasbourg",)}) if u.login == USER else u
        for u in settings.web.users
    )
    return settings.model_copy(update={"web": settings.web.model_copy(update={"users": users})})


@pytest.fixture
def strasbourg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    with serve(tmp_path, _strasbourg_only) as running:
        yield running


def test_a_coordinator_of_some_centres_touches_only_their_jurors(strasbourg: Served) -> None:
    before = (strasbourg.config / "jury.yaml").read_bytes()
    with strasbourg.logged_in() as client:
        for url in (
            f"/annuaire-jury/retirer?email={LEFEVRE}",
            f"/annuaire-jury/adresse?email={LEFEVRE}",
            f"/annuaire-jury/modifier?email={LEFEVRE}",
        ):
            refused = client.get(url)
            assert refused.status_code == 403, url
            text = text_of(refused.text)
            assert "centres que vous ne coordonnez pas" in text
            assert "greta-lyon-venissieux" in text
        page = client.get("/annuaire-jury/nouveau")
        forged = client.post(
            "/annuaire-jury/retirer",
            data={"csrf": csrf_of(page.text), "version": "x", "email": LEFEVRE},
        )
        assert forged.status_code == 403
        forged = client.post(
            "/annuaire-jury/reactiver",
            data={"csrf": csrf_of(page.text), "version": "x", "email": LEFEVRE},
        )
        assert forged.status_code == 403
        forged = client.post(
            "/annuaire-jury/enregistrer",
            data={"csrf": csrf_of(page.text), "version": "x", "mode": "edit", "email": LEFEVRE,
                  "name": "X", "titles": "TP-01280", "habilitation_until": "01/01/2030"},
        )  # fmt: skip
        assert forged.status_code == 403
        assert (strasbourg.config / "jury.yaml").read_bytes() == before
        # a juror on no session (or only on Strasbourg's): allowed
        assert retire(client, HOAREAU).status_code == 303
