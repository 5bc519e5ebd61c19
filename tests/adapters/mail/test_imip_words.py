"""Issue 11, « Words » of the jury's mails, as a real relay receives them: a cancellation says
which happened (the session is cancelled, or the juror is no longer on its jury); an update says
what changed, old → new (dates, hours, place, session manager), in the mail and in the iMIP
event's description."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from syncsvc.state.schema import invitations
from tests.adapters.mail.conftest import NOW
from tests.adapters.mail.test_imip import (
    CANCELLED_JURY,
    CANCELLED_SESSION,
    DAY,
    MEMBER,
    OTHER_MEMBER,
    Invitation,
    Runner,
    _for,
    _of_session,
    runner,
)

__all__ = ["runner"]  # the fixture, shared with test_imip

MOVED = (
    "Ce qui change :\n"
    "- Dates : du lundi 15 mars 2027 au vendredi 19 mars 2027 → du lundi 22 mars 2027 au "
    "vendredi 26 mars 2027"
)


def plain(invitation: Invitation) -> str:
    body = invitation.received.message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def html(invitation: Invitation) -> str:
    body = invitation.received.message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def description(invitation: Invitation) -> str:
    return str(invitation.event.get("DESCRIPTION", ""))


def move_a_week(runner: Runner) -> None:
    runner.edit("start: 2027-03-15", "start: 2027-03-22")
    runner.edit("end: 2027-03-19", "end: 2027-03-26")


def test_an_update_says_which_dates_changed_old_to_new(runner: Runner) -> None:
    runner.run(NOW)
    move_a_week(runner)
    (updated,) = _for(runner.run(NOW + DAY), MEMBER)
    assert updated.subject == (
        "Modification : Session d'examen TP-00374 Secrétaire assistant (TITRE) — lundi 22 mars 2027"
    )
    text = plain(updated)
    assert text.startswith(
        "Bonjour Corinne Maillot,\n\nLa session d'examen ci-dessous a été modifiée : merci de "
        f"mettre à jour votre agenda et de confirmer votre présence.\n\n{MOVED}\n\n"
        "Session d'examen TP-00374 Secrétaire assistant (TITRE)\n"
        "Du lundi 22 mars 2027 au vendredi 26 mars 2027\n"
        "Jours et horaires :\n"
        "- lundi 22 mars 2027, de 8 h 30 à 18 h\n"
        "- mardi 23 mars 2027, de 8 h 30 à 18 h\n"
        "- mercredi 24 mars 2027, de 8 h 30 à 18 h\n"
        "- jeudi 25 mars 2027, de 8 h 30 à 18 h\n"
        "- vendredi 26 mars 2027, de 8 h 30 à 18 h\n"
        "Accueil du jury : 08:00, le premier jour, avant les épreuves\n"
        "Lieu : AFPAR Saint-André, salle B12\n"
        "Responsable de session : Jean-Luc Hoarau <jl.hoarau@afpar.example>\n"
    )
    assert "Horaires" not in text
    assert "<li>Dates : du lundi 15 mars 2027 au vendredi 19 mars 2027 → du lundi 22 mars" in (
        html(updated)
    )
    assert description(updated).startswith(MOVED + "\n\nSession d'examen TP-00374")


def test_an_update_says_hours_place_and_session_manager_old_to_new(runner: Runner) -> None:
    runner.run(NOW)
    runner.edit('first_day_start: "08:30"', 'first_day_start: "09:00"\nlast_day_end: "17:00"')
    runner.edit(
        'location: "AFPAR Saint-André, salle B12"', 'location: "AFPAR Saint-André, salle C3"'
    )
    runner.edit(
        'session_manager: {name: "Jean-Luc Hoarau", email: jl.hoarau@afpar.example}',
        'session_manager: {name: "Sandrine Grondin", email: s.grondin@afpar.example}',
    )
    runner.edit(
        'deputy_manager: {name: "Sandrine Grondin", email: s.grondin@afpar.example}',
        'deputy_manager: {name: "Jean-Luc Hoarau", email: jl.hoarau@afpar.example}',
    )
    (updated,) = _for(runner.run(NOW + DAY), MEMBER)
    expected = (
        "Ce qui change :\n"
        "- Horaires : de 8 h 30 à 18 h chaque jour → de 9 h à 17 h chaque jour\n"
        "- Lieu : AFPAR Saint-André, salle B12 → AFPAR Saint-André, salle C3\n"
        "- Responsable de session : Jean-Luc Hoarau <jl.hoarau@afpar.example> → "
        "Sandrine Grondin <s.grondin@afpar.example>\n"
    )
    assert f"\n\n{expected}\n" in plain(updated)
    assert "Dates :" not in plain(updated)
    assert description(updated).startswith(expected)


def test_a_juror_removed_from_the_jury_is_told_so(runner: Runner) -> None:
    runner.run(NOW)
    runner.edit(
        '  - {name: "Corinne Maillot", email: c.maillot@jury.example, '
        'habilitation_until: 2028-06-30, company: "Cabinet Maillot"}\n',
        "",
    )
    (cancel,) = runner.run(NOW + DAY)
    assert cancel.method == "CANCEL"
    assert cancel.subject == (
        "Retrait du jury : Session d'examen TP-00374 Secrétaire assistant (TITRE) — "
        "lundi 15 mars 2027"
    )
    assert plain(cancel).startswith(
        "Bonjour Corinne Maillot,\n\nVous ne faites plus partie du jury de la session d'examen "
        "ci-dessous : votre participation est annulée. Merci de la retirer de votre agenda.\n\n"
        "Session d'examen TP-00374 Secrétaire assistant (TITRE)\n"
    )
    assert "La session d'examen ci-dessous est annulée" not in plain(cancel)
    assert description(cancel).startswith("Vous ne faites plus partie du jury")


def test_a_cancelled_session_says_it_is_cancelled(runner: Runner) -> None:
    runner.run(NOW)
    path = runner.session_file(CANCELLED_SESSION)
    path.write_text(path.read_text(encoding="utf-8") + "cancelled: true\n", encoding="utf-8")
    cancels = runner.run(NOW + DAY)
    assert sorted(c.recipient for c in cancels) == sorted(CANCELLED_JURY)
    for cancel in cancels:
        assert cancel.subject.startswith("Annulation : Session d'examen TP-00407 ")
        assert "\n\nLa session d'examen ci-dessous est annulée. Merci de la retirer de votre " in (
            plain(cancel)
        )
        assert "ne faites plus partie" not in plain(cancel)


def test_a_session_whose_file_is_removed_is_told_with_what_the_juror_was_told(
    runner: Runner,
) -> None:
    runner.run(NOW)
    runner.session_file().unlink()
    cancels = runner.run(NOW + DAY)
    assert sorted(c.recipient for c in cancels) == sorted((MEMBER, OTHER_MEMBER))
    for cancel in cancels:
        assert cancel.subject == (
            "Annulation : Session d'examen TP-00374 Secrétaire assistant (TITRE) — "
            "lundi 15 mars 2027"
        )
        assert (
            "La session d'examen ci-dessous n'est plus au planning du centre : votre "
            "participation est annulée. Merci de la retirer de votre agenda.\n\n"
            "Session d'examen TP-00374 Secrétaire assistant (TITRE)\n"
            "Du lundi 15 mars 2027 au vendredi 19 mars 2027\n"
            "Jours et horaires :\n"
            "- lundi 15 mars 2027, de 8 h 30 à 18 h\n"
            "- mardi 16 mars 2027, de 8 h 30 à 18 h\n"
            "- mercredi 17 mars 2027, de 8 h 30 à 18 h\n"
            "- jeudi 18 mars 2027, de 8 h 30 à 18 h\n"
            "- vendredi 19 mars 2027, de 8 h 30 à 18 h\n"
            "Accueil du jury : 08:00, le premier jour, avant les épreuves\n"
            "Lieu : AFPAR Saint-André, salle B12\n"
            "Responsable de session : Jean-Luc Hoarau <jl.hoarau@afpar.example>\n"
        ) in plain(cancel)


def test_a_juror_added_back_gets_an_invitation_not_a_modification(runner: Runner) -> None:
    line = (
        '  - {name: "Corinne Maillot", email: c.maillot@jury.example, '
        'habilitation_until: 2028-06-30, company: "Cabinet Maillot"}\n'
    )
    runner.run(NOW)
    runner.edit(line, "")
    runner.run(NOW + DAY)
    runner.edit("jury:\n", "jury:\n" + line)
    (back,) = runner.run(NOW + 2 * DAY)
    assert (back.method, back.sequence) == ("REQUEST", 2)
    assert back.subject.startswith("Invitation : ")
    assert "\n\nVous êtes convoqué(e) comme membre du jury" in plain(back)


def test_an_invitation_sent_before_briefings_were_kept_gets_the_plain_update(
    runner: Runner,
) -> None:
    """The store of an older release has no briefing: the update cannot say what changed, and
    says it was modified, as before."""
    runner.run(NOW)
    with runner.store.begin() as db:
        db.execute(invitations.update().values(briefing=None))
    move_a_week(runner)
    (updated,) = _for(runner.run(NOW + DAY), MEMBER)
    assert updated.subject.startswith("Modification : ")
    assert "a été modifiée" in plain(updated)
    assert "Ce qui change" not in plain(updated)
    runner.edit("start: 2027-03-22", "start: 2027-03-29")
    runner.edit("end: 2027-03-26", "end: 2027-04-02")
    (again,) = _for(runner.run(NOW + 2 * DAY), MEMBER)
    assert "- Dates : du lundi 22 mars 2027 au vendredi 26 mars 2027 → du lundi 29 mars 2027" in (
        plain(again)
    )


def test_the_briefing_kept_holds_no_candidate(runner: Runner) -> None:
    runner.run(NOW)
    states = runner.store.invitation_states()
    kept = " ".join(s.briefing for s in states.values())
    assert "Secrétaire assistant" in kept
    for name in ("Karim Benali", "Julie Perret", "Transports Dumas", "Géodis"):
        assert name not in kept


# --- session days (issue 11) -----------------------------------------------------------------

CCP = "ccp-ac-2027-05-st-andre"
DAY_2 = '{date: 2027-05-11, start: "08:00", end: "12:00"}'


def test_the_invitation_lists_the_days_and_a_day_s_new_hours_are_an_update(
    runner: Runner,
) -> None:
    """Reported: the invitation was one block from the first morning to the last evening. The
    CCP example lists its days (10 May 08:00–16:30, 11 May 08:00–12:00): the mail lists them,
    the iMIP event is the first day recurring over the session, the second day an instance at
    its own hours (one UID, as iTIP wants); a day's hours changed sends an update saying so."""
    manager = 'session_manager: {name: "Sandrine Grondin", email: s.grondin@afpar.example'
    runner.edit(manager, manager + ', phone: "0262 00 00 02"', CCP)
    first = _of_session(runner.run(NOW), CCP)
    assert len(first) == 2  # the two jurors
    invited = first[0]
    assert invited.subject.endswith(" — lundi 10 mai 2027")
    assert (
        "Du lundi 10 mai 2027 au mardi 11 mai 2027\n"
        "Jours et horaires :\n"
        "- lundi 10 mai 2027, de 8 h à 16 h 30\n"
        "- mardi 11 mai 2027, de 8 h à 12 h\n"
        "Lieu : AFPAR Saint-André\n"
        "Responsable de session : Sandrine Grondin <s.grondin@afpar.example>, tél. 0262 00 00 02\n"
    ) in plain(invited)
    assert str(invited.event["CONTACT"]) == (
        "Sandrine Grondin <s.grondin@afpar.example>, tél. 0262 00 00 02"
    )
    assert "<li>mardi 11 mai 2027, de 8 h à 12 h</li>" in html(invited)
    events = Calendar.from_ical(invited.calendar).walk("VEVENT")
    (master,) = [e for e in events if "RECURRENCE-ID" not in e]
    (instance,) = [e for e in events if "RECURRENCE-ID" in e]
    reunion = ZoneInfo("Indian/Reunion")
    assert master.decoded("DTSTART") == datetime(2027, 5, 10, 8, 0, tzinfo=reunion)
    assert master.decoded("DTEND") == datetime(2027, 5, 10, 16, 30, tzinfo=reunion)
    assert master["RRULE"].to_ical() == b"FREQ=DAILY;COUNT=2"
    assert "EXDATE" not in master
    assert instance.decoded("RECURRENCE-ID") == datetime(2027, 5, 11, 8, 0, tzinfo=reunion)
    assert instance.decoded("DTSTART") == datetime(2027, 5, 11, 8, 0, tzinfo=reunion)
    assert instance.decoded("DTEND") == datetime(2027, 5, 11, 12, 0, tzinfo=reunion)
    assert (instance["UID"], instance["SEQUENCE"]) == (master["UID"], master["SEQUENCE"])
    assert [str(a) for a in [instance["ATTENDEE"]]] == [f"mailto:{invited.recipient}"]
    assert "À faire" not in description(invited)

    runner.edit(DAY_2, DAY_2.replace('"12:00"', '"13:00"'), CCP)
    updated = _of_session(runner.run(NOW + DAY), CCP)
    assert sorted(i.recipient for i in updated) == sorted(i.recipient for i in first)
    for one in updated:
        assert (one.method, one.sequence) == ("REQUEST", 1)
        assert one.subject.startswith("Modification : ")
        assert (
            "- Horaires : lundi 10 mai 2027 de 8 h à 16 h 30 ; mardi 11 mai 2027 de 8 h à 12 h "
            "→ lundi 10 mai 2027 de 8 h à 16 h 30 ; mardi 11 mai 2027 de 8 h à 13 h\n"
        ) in plain(one)
        assert "Dates :" not in plain(one)
    assert runner.run(NOW + 2 * DAY) == []


def test_a_day_taken_away_in_the_middle_is_excluded_from_the_invitation(runner: Runner) -> None:
    runner.run(NOW)
    runner.edit(
        'first_day_start: "08:30"',
        'first_day_start: "08:30"\ndays:\n'
        '  - {date: 2027-03-15, start: "08:30", end: "18:00"}\n'
        '  - {date: 2027-03-16, start: "08:30", end: "18:00"}\n'
        '  - {date: 2027-03-18, start: "08:30", end: "18:00"}\n',
    )
    (updated,) = _for(runner.run(NOW + DAY), MEMBER)
    assert updated.sequence == 1
    assert "- Dates : du lundi 15 mars 2027 au vendredi 19 mars 2027 → lundi 15 mars 2027, " in (
        plain(updated)
    )
    master = updated.event
    assert master["RRULE"].to_ical() == b"FREQ=DAILY;COUNT=4"
    reunion = ZoneInfo("Indian/Reunion")
    assert [d.dt for d in master["EXDATE"].dts] == [datetime(2027, 3, 17, 8, 30, tzinfo=reunion)]
