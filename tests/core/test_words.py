"""Issue 11, « Words »: every centre is told its own service and addresses, by their names in
force, in every face (calendar descriptions, feeds, mails, ``plan``); a ruleset's placeholders
are checked at load."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from pydantic import ValidationError

from syncsvc.core.config import Config
from syncsvc.core.entries import entry_for
from syncsvc.core.model import Centre, Milestone, Session
from syncsvc.core.planner import Planned, plan_all, plan_sessions
from syncsvc.core.reminder_model import Item, Notification, Recipient
from syncsvc.core.rules import Ruleset
from syncsvc.core.words import sources_text
from syncsvc.formats.ical import calendar_of
from syncsvc.formats.mail import compose
from syncsvc.inputs.loader import load_config, load_ruleset
from tests.harness.factories import CENTRE, SESSION, write_config

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)
S0_ADDRESS = "ddcs@seine-saint-denis.gouv.fr"
OLD_NAMES = re.compile(r"\b(Direccte|DIRECCTE|DIECCTE|DRIEETS|DDCS)\b|DEETS/UD")
EXAMPLE_UD = {
    "afpar-st-andre": ("DEETS de La Réunion", "974.certification@deets.example"),
    "greta-lyon-venissieux": ("DDETS", "ddets-69-certification@ddets.example"),
    "afpa-strasbourg": ("DDETS", "ddets-67-titres@ddets.example"),
}


def example() -> Config:
    config = load_config(ROOT / "config")
    assert config.ok, config.problems
    return config


def planned(config: Config) -> list[Planned]:
    return plan_all(config, {}, NOW)


def one(planned_sessions: list[Planned], session_id: str, rule_id: str) -> Planned:
    for found in planned_sessions:
        if found.session.id == session_id:
            return Planned(
                found.session, found.centre, [m for m in found.milestones if m.id == rule_id]
            )
    raise KeyError(session_id)


def own_texts(m: Milestone) -> str:
    """What the ruleset says in its own words (quotes of the sources apart)."""
    rule = m.rule
    return "\n".join(t for t in (rule.title, rule.short, rule.description, rule.note) if t)


def unfolded(ics: bytes) -> str:
    """The DESCRIPTION of the one VEVENT of ``ics``, as a calendar application reads it."""
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    return str(event["DESCRIPTION"])


def mail_text(session: Session, centre: Centre, m: Milestone) -> str:
    recipient = Recipient("Nathalie Técher", "n.techer@afpar.example", "coordinators")
    item = Item(session, centre, m, "overdue", 3, NOW)
    n = Notification("reminder", "daily:x", recipient, NOW, centre=centre, items=(item,))
    body = compose(n, "Examens <examens@syncsvc.example>", NOW).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


# --- the examples --------------------------------------------------------------------


@pytest.mark.parametrize(
    "session_id",
    ["sa-2027-03-st-andre", "ctrmp-2027-02-venissieux", "tee-2027-04-strasbourg"],
)
def test_reunion_lyon_and_strasbourg_are_not_told_to_write_to_seine_saint_denis(
    session_id: str,
) -> None:
    """Issue 11: « Every centre (Réunion, Lyon, Strasbourg) is told to write to
    ddcs@seine-saint-denis.gouv.fr » — in the calendars, the feeds and the mails."""
    session, centre, (create,) = one(planned(example()), session_id, "ceres_session_create")
    ud_name, ud_email = EXAMPLE_UD[centre.id]
    entry = entry_for(session, centre, create)
    ics = unfolded(calendar_of([entry], NOW))
    mail = mail_text(session, centre, create)
    for face in (entry.description, ics, mail):
        assert S0_ADDRESS not in face
        assert f"Si le délai de 3 mois n'est pas respecté, écrire à la {ud_name} ({ud_email})." in (
            face
        )


def test_no_centre_of_the_example_is_told_an_old_name_or_another_address() -> None:
    addresses = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
    for session, centre, milestones in planned(example()):
        allowed = {centre.ud_email, centre.exam_office_email}
        for m in milestones:
            texts = own_texts(m)
            assert not OLD_NAMES.search(texts), (session.id, m.id)
            assert "{" not in texts, (session.id, m.id)
            found = set(addresses.findall(texts)) - allowed
            assert found <= {f"epreuves-{centre.sector}@afpa.fr", "epreuves-ccp@afpa.fr"}, (
                session.id,
                m.id,
                found,
            )


PARIS: dict[str, Any] = {
    **CENTRE,
    "id": "cfa-paris-11",
    "name": "CFA Paris Roquette",
    "address": "10 rue de la Roquette, 75011 Paris",
    "ud_email": "drieets-idf.ud75.titres@drieets.example",
}


def paris_session(**changes: Any) -> dict[str, Any]:
    return {
        **SESSION,
        "id": "sa-2027-03-paris",
        "centre": "cfa-paris-11",
        "pv_validated_on": date(2027, 4, 2),
        "parchemins_received_on": date(2027, 4, 20),
        **changes,
    }


def test_a_paris_centre_is_not_told_to_warn_the_deets(tmp_path: Path) -> None:
    """Issue 11: « a Paris centre is told to « prévenir la DEETS » » (the overseas service)."""
    config = load_config(write_config(tmp_path, [paris_session()], PARIS))
    assert config.ok, config.problems
    (found,) = plan_all(config, {}, NOW)
    by_id = {m.id: m for m in found.milestones}
    report = by_id["parchemins_report"]
    assert report.title == (
        "Formulaire de remise des parchemins à la DRIEETS Île-de-France, unité départementale "
        "de Paris, retour des non-retirés"
    )
    for m in found.milestones:
        assert not re.search(r"\b(DEETS|Direccte|DIRECCTE|DIECCTE|DDCS)\b", own_texts(m)), m.id
    assert (
        "drieets-idf.ud75.titres@drieets.example"
        in by_id["ud_session_declaration"].rule.description
    )


@pytest.mark.parametrize(
    ("session_id", "rule_id", "address"),
    [
        ("sa-2027-03-st-andre", "dte_reception_check", "epreuves-tertiaire@afpa.fr"),
        ("ccp-ac-2027-05-st-andre", "dte_reception_check", "epreuves-ccp@afpa.fr"),
        ("dwwm-2027-06-venissieux", "dte_reception", "epreuves-btp@afpa.fr"),
        ("tee-2027-04-strasbourg", "dte_reception_check", "epreuves-industrie@afpa.fr"),
    ],
)
def test_one_exam_service_address_the_sessions_own(
    session_id: str, rule_id: str, address: str
) -> None:
    """Issue 11: « all four AFPA exam-service addresses are listed instead of the one for the
    centre's sector (epreuves-ccp@ for a CCP session) »."""
    session, centre, (m,) = one(planned(example()), session_id, rule_id)
    text = entry_for(session, centre, m).description.split("Sources :")[0]
    assert re.findall(r"epreuves-[a-z]+@afpa\.fr", text) == [address] * text.count(address)
    assert address in text


def test_the_centre_s_exam_office_is_the_address_given_when_ordering_the_dte() -> None:
    *_, (m,) = one(planned(example()), "sa-2027-03-st-andre", "dte_order")
    assert "adresse mail générique du centre d'examen (examen.cfpae@afpar.example)" in (
        m.rule.description
    )


def test_plan_shows_a_milestone_set_apart_in_the_centre_s_words() -> None:
    planning = plan_sessions(example(), {}, NOW)
    for apart in planning.not_applicable.values():
        for n in apart:
            assert "{" not in n.rule.description
            assert not OLD_NAMES.search(n.rule.description)


def test_a_yearly_milestone_names_the_centre_s_service() -> None:
    planning = plan_sessions(example(), {}, NOW)
    reunion = [c for c in planning.centre_milestones if c.centre.id == "afpar-st-andre"]
    assert reunion
    assert (
        "à la DEETS de La Réunion (974.certification@deets.example) avant le 31 janvier"
        in reunion[0].milestone.rule.description
    )


# --- the placeholders, checked at load --------------------------------------------------------


def ruleset_with(description: str, **rule: Any) -> Ruleset:
    data = load_ruleset().model_dump(mode="json")
    data["rules"][0]["description"] = description
    data["rules"][0].update(rule)
    return Ruleset.model_validate(data)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Écrire à la {ud_mail}.", "{ud_mail}"),
        ("Écrire à la {ud_name:>20}.", "{ud_name:>20}"),
        ("Écrire à la {ud_name!r}.", "{ud_name!r}"),
        ("Écrire à la {ud_name.upper}.", "{ud_name.upper}"),
        ("Écrire à la {0}.", "{0}"),
    ],
)
def test_an_unknown_placeholder_is_a_ruleset_error(text: str, shown: str) -> None:
    with pytest.raises(ValidationError) as raised:
        ruleset_with(text)
    message = str(raised.value)
    assert f"règle « agrement_check », description : paramètre « {shown} » inconnu" in message
    assert "{ud_name}, {ud_email}, {exam_office_email}, {exam_service_email}" in message


def test_a_lone_brace_is_a_ruleset_error_and_a_doubled_one_is_a_brace() -> None:
    with pytest.raises(ValidationError, match="accolade isolée"):
        ruleset_with("Écrire à la {ud_name.")
    with pytest.raises(ValidationError, match=re.escape("title : paramètre « {nom} » inconnu")):
        ruleset_with("ok", title="Vérifier {nom}")
    ruleset = ruleset_with("Un texte avec {{accolades}} pour la {ud_name}.")
    config = load_config(ROOT / "config", ruleset)
    (sa, *_) = [p for p in plan_all(config, {}, NOW) if p.session.id == "sa-2027-03-st-andre"]
    check = next(m for m in sa.milestones if m.id == "agrement_check")
    assert check.rule.description == "Un texte avec {accolades} pour la DEETS de La Réunion."


def test_a_centre_s_own_rule_with_an_unknown_placeholder_is_refused_naming_file_and_field(
    tmp_path: Path,
) -> None:
    extra = {
        "id": "salle_reservation",
        "title": "Réserver les salles pour la {ud_nom}",
        "kind": "advice",
        "audience": ["coordinators"],
        "anchor": "start",
        "offset": "-60d",
    }
    config = load_config(write_config(tmp_path, [SESSION], {**CENTRE, "rules": {"extra": [extra]}}))
    (problem,) = [p for p in config.problems if "ud_nom" in str(p)]
    assert problem.file.endswith("centres.yaml")
    assert "rules.extra" in str(problem)
    assert "paramètre « {ud_nom} » inconnu" in str(problem)


# --- sources by their full titles, in every face ------------------------------------------------


def test_sources_are_shown_by_their_full_title_never_as_a_bare_s2() -> None:
    """Issue 11: « Source S2 : « … » » — S0 to S4 were never expanded."""
    session, centre, (m,) = one(planned(example()), "sa-2027-03-st-andre", "ud_session_declaration")
    guide = (
        "S2 : « Guide de préparation de la session » — tableau des tâches à réaliser, "
        "réglementaires ou conseillées, de la programmation à l'archivage (émetteur non "
        "indiqué, non daté ; antérieur au 1er avril 2021 : il nomme la Direccte et son UD, "
        "remplacées depuis par la DREETS et les DDETS"
    )
    quote = (
        "  « Transmettre à l'UD de la DIRECCTE compétente les informations concernant la session "
        "d'examen au minimum 3 mois avant la date de la session : Les dates de début et de fin "
        "de la session ; Le lieu de déroulement de la session ; Le nombre de candidats ; Le nom "
        "du responsable de session »"
    )
    entry = entry_for(session, centre, m)
    ics = unfolded(calendar_of([entry], NOW))
    mail = mail_text(session, centre, m)
    for face in (entry.description, ics, mail):
        assert "Source S2 :" not in face
        assert f"\n- {guide}" in face
        assert f"\n{quote}\n" in face
        assert "\n- S4 : « Chronologie d'une session d'examen d'un Titre Professionnel" in face


def test_the_legal_text_is_cited_by_its_exact_title() -> None:
    planning = plan_sessions(example(), {}, NOW)
    programming = planning.centre_milestones[0].milestone
    lines = entry_for_centre_text(programming)
    assert (
        "- RG2016 : Arrêté du 21 juillet 2016 portant règlement général des sessions d'examen "
        "pour l'obtention du titre professionnel du ministère chargé de l'emploi (en vigueur "
        "depuis le 1er septembre 2016 ; il a abrogé l'arrêté du 8 décembre 2008 modifié "
        "portant règlement général des sessions de validation conduisant au titre "
        "professionnel du ministère chargé de l'emploi), annexe, point 1.1 « Programmation "
        "prévisionnelle » (au minimum une fois par an, avant le 31 janvier)"
    ) in lines


def entry_for_centre_text(m: Milestone) -> str:
    return sources_text(m.rule)
