"""Issue 12, « Reporter » and « Annuler », as the jury receives them through a real relay: the
CANCEL of a cancelled session says « session annulée » with its day and reason (and a juror
removed is still told he is no longer on the jury); the update of a postponed session says
« Session reportée : old → new (motif) »."""

from __future__ import annotations

from syncsvc.core.entries import uid_for
from tests.adapters.mail.conftest import NOW
from tests.adapters.mail.test_imip import (
    CANCELLED_JURY,
    CANCELLED_SESSION,
    DAY,
    MEMBER,
    OTHER_MEMBER,
    SESSION,
    Runner,
    _for,
    _of_session,
    runner,
)
from tests.adapters.mail.test_imip_words import description, html, plain

__all__ = ["runner"]  # the fixture, shared with test_imip

CANCELLATION = 'cancelled: {on: 2026-11-24, reason: "Nombre de candidats insuffisant"}\n'
POSTPONEMENT = (
    "postponed:\n"
    "  - {from_start: 2027-03-15, from_end: 2027-03-19, on: 2026-11-24, "
    'reason: "Plateau technique indisponible"}\n'
)
REPORTED = (
    "Ce qui change :\n"
    "- Session reportée : du lundi 15 mars 2027 au vendredi 19 mars 2027 → du lundi 12 avril "
    "2027 au vendredi 16 avril 2027 (motif : Plateau technique indisponible)"
)


def append(runner: Runner, text: str, session_id: str = SESSION) -> None:
    path = runner.session_file(session_id)
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_a_cancelled_session_says_session_annulee_with_its_day_and_reason(
    runner: Runner,
) -> None:
    runner.run(NOW)
    append(runner, CANCELLATION, CANCELLED_SESSION)
    cancels = runner.run(NOW + DAY)
    assert sorted(c.recipient for c in cancels) == sorted(CANCELLED_JURY)
    for cancel in cancels:
        assert (cancel.method, cancel.status) == ("CANCEL", "CANCELLED")
        assert cancel.subject.startswith("Annulation : Session d'examen TP-00407 ")
        said = (
            "La session d'examen ci-dessous est annulée (session annulée le 24/11/2026 : "
            "Nombre de candidats insuffisant). Merci de la retirer de votre agenda."
        )
        assert f"\n\n{said}\n\n" in plain(cancel)
        assert "session annulée le 24/11/2026 : Nombre de candidats insuffisant" in html(cancel)
        assert description(cancel).startswith(
            "La session d'examen ci-dessous est annulée (session annulée le 24/11/2026 : "
        )
        assert "ne faites plus partie" not in plain(cancel)
    assert runner.run(NOW + 2 * DAY) == [], "one CANCEL, not one a day"


def test_a_juror_removed_from_a_session_that_goes_on_is_not_told_it_is_cancelled(
    runner: Runner,
) -> None:
    runner.run(NOW)
    runner.edit(
        '  - {name: "Corinne Maillot", email: c.maillot@jury.example, '
        'habilitation_until: 2028-06-30, company: "Cabinet Maillot"}\n',
        "",
    )
    (cancel,) = runner.run(NOW + DAY)
    assert cancel.subject.startswith("Retrait du jury : ")
    assert "Vous ne faites plus partie du jury" in plain(cancel)
    assert "session annulée" not in plain(cancel).lower()


def test_a_postponed_session_tells_its_jury_old_to_new_dates_and_why(runner: Runner) -> None:
    runner.run(NOW)
    runner.edit("start: 2027-03-15", "start: 2027-04-12")
    runner.edit("end: 2027-03-19", "end: 2027-04-16")
    append(runner, POSTPONEMENT)
    updates = _of_session(runner.run(NOW + DAY), SESSION)
    assert sorted(u.recipient for u in updates) == sorted((MEMBER, OTHER_MEMBER))
    (update,) = _for(updates, MEMBER)
    assert (update.method, update.sequence, update.uid) == (
        "REQUEST",
        1,
        uid_for(SESSION, "exam_session"),
    )
    assert update.subject == (
        "Modification : Session d'examen TP-00374 Secrétaire assistant (TITRE) — "
        "lundi 12 avril 2027"
    )
    assert f"\n\n{REPORTED}\n\n" in plain(update)
    assert "<li>Session reportée : du lundi 15 mars 2027 au vendredi 19 mars 2027 → du lundi" in (
        html(update)
    )
    assert description(update).startswith(REPORTED + "\n\nSession d'examen TP-00374")
    assert update.start.date().isoformat() == "2027-04-12"


def test_dates_moved_again_without_a_new_postponement_are_a_plain_change(
    runner: Runner,
) -> None:
    runner.run(NOW)
    runner.edit("start: 2027-03-15", "start: 2027-04-12")
    runner.edit("end: 2027-03-19", "end: 2027-04-16")
    append(runner, POSTPONEMENT)
    runner.run(NOW + DAY)
    runner.edit("start: 2027-04-12", "start: 2027-04-19")
    runner.edit("end: 2027-04-16", "end: 2027-04-23")
    (update,) = _for(runner.run(NOW + 2 * DAY), MEMBER)
    assert (
        "Ce qui change :\n- Dates : du lundi 12 avril 2027 au vendredi 16 avril 2027 → du lundi "
        "19 avril 2027 au vendredi 23 avril 2027\n"
    ) in plain(update)
    assert "Session reportée" not in plain(update)


def test_a_cancellation_withdrawn_invites_the_jury_again(runner: Runner) -> None:
    first = _of_session(runner.run(NOW), CANCELLED_SESSION)
    append(runner, CANCELLATION, CANCELLED_SESSION)
    runner.run(NOW + DAY)
    runner.edit(CANCELLATION, "", CANCELLED_SESSION)
    again = _of_session(runner.run(NOW + 2 * DAY), CANCELLED_SESSION)
    assert sorted(i.recipient for i in again) == sorted(CANCELLED_JURY)
    for invitation in again:
        (request,) = _for(first, invitation.recipient)
        assert (invitation.method, invitation.sequence) == ("REQUEST", request.sequence + 2)
        assert invitation.subject.startswith("Invitation : ")
        assert "Vous êtes convoqué(e) comme membre du jury" in plain(invitation)
