"""The session form's own readings: dates (as typed or from a date field), hours, and the
loader's field paths mapped back to the form's fields."""

from __future__ import annotations

from datetime import date

import pytest

from syncsvc.web import forms


def test_dates_as_typed_or_from_a_date_field() -> None:
    assert forms.parse_day("15/03/2027") == date(2027, 3, 15)
    assert forms.parse_day(" 5/3/2027 ") == date(2027, 3, 5)
    assert forms.parse_day("2027-03-15") == date(2027, 3, 15)
    with pytest.raises(ValueError, match=r"^date « 31/02/2027 » illisible \(attendu : "):
        forms.parse_day("31/02/2027")


def test_hours() -> None:
    assert forms.parse_time("8h30") == "08:30"
    assert forms.parse_time("8 h") == "08:00"
    assert forms.parse_time("18:05") == "18:05"
    with pytest.raises(ValueError, match="heure « 25:00 » illisible"):
        forms.parse_time("25:00")


def test_loader_paths_go_back_to_the_rows_people_filled() -> None:
    form = {
        "centre": "c",
        "start": "01/02/2027",
        "end": "02/02/2027",
        "jury_name_1": "A",
        "jury_email_1": "a@x.example",
        "jury_until_1": "01/01/2030",
        "jury_remove_2": "1",
        "jury_name_2": "B",
        "jury_email_2": "b@x.example",
        "jury_until_2": "01/01/2030",
        "jury_name_3": "C",
        "jury_email_3": "pas un courriel",
        "jury_until_3": "01/01/2030",
    }
    built = forms.build(form, None)
    assert [j["email"] for j in built.values["jury"]] == ["a@x.example", "pas un courriel"]
    assert forms.field_of("jury[2].email", built) == "jury_email_3"  # row 2 was removed
    assert forms.field_of("jury[2].habilitation_until", built) == "jury_until_3"
    assert forms.field_of("session_manager.email", built) == "manager_email"
    assert forms.field_of("candidates.vae", built) == "vae"
    assert forms.field_of("title.acronym", built) == "acronym"
    assert forms.field_of("done.dte_order", built) is None


def test_a_form_keeps_what_it_does_not_show() -> None:
    base = {
        "id": "s-2027-01-x",
        "title": {"code": "TP-00001", "acronym": "S", "label": "L", "version": "v2"},
        "nature": "titre",
        "centre": "c",
        "start": date(2027, 1, 4),
        "end": date(2027, 1, 5),
        "candidates": {"training": 1, "vae": 0, "list": [{"name": "X"}]},
        "session_manager": {"name": "M", "email": "m@x.example"},
        "deputy_manager": {"name": "D", "email": "d@x.example"},
        "coordinators": [{"name": "C", "email": "c@x.example"}],
        "done": {"dte_order": date(2026, 10, 1)},
    }
    built = forms.build(forms.form_of(base), base)
    assert built.errors == {}
    assert built.values == base


def test_the_jury_welcome_time_is_read_kept_and_removed_from_the_form() -> None:
    base = {
        "id": "s-2027-01-x",
        "title": {"code": "TP-00001", "acronym": "S", "label": "L"},
        "nature": "titre",
        "centre": "c",
        "start": date(2027, 1, 4),
        "end": date(2027, 1, 5),
        "first_day_start": "08:30",
        "jury_welcome": "08:00",
        "candidates": {"training": 1, "vae": 0},
        "session_manager": {"name": "M", "email": "m@x.example"},
        "coordinators": [],
    }
    form = forms.form_of(base)
    assert form["jury_welcome"] == "08:00"
    assert forms.build(form, base).values == base
    built = forms.build({**form, "jury_welcome": "7h45"}, base)
    assert built.values["jury_welcome"] == "07:45"
    assert "jury_welcome" not in forms.build({**form, "jury_welcome": ""}, base).values
    assert forms.build({**form, "jury_welcome": "7h75"}, base).errors == {
        "jury_welcome": ["heure « 7h75 » illisible (attendu : hh:mm, ex. 08:30)"]
    }


def test_a_directory_juror_is_written_by_email_alone() -> None:
    form = {
        "centre": "c",
        "start": "01/02/2027",
        "end": "02/02/2027",
        "jury_email_1": "e.lefevre@jury.example",  # an e-mail alone: from the directory
        "jury_name_2": "Bruno Payet",
        "jury_email_2": "b@x.example",  # a name without its date: the date is asked for
        "known_t.girard@jury.example": "1",
    }
    known = {
        "t.girard@jury.example": {
            "email": "t.girard@jury.example",
            "name": "Thomas Girard",
            "habilitation_until": date(2028, 12, 31),
            forms.DIRECTORY: True,
        }
    }
    built = forms.build(form, None, known)
    assert built.values["jury"][0] == {"email": "e.lefevre@jury.example"}
    assert built.values["jury"][2] == {"email": "t.girard@jury.example"}
    assert built.errors["jury_until_2"] == [
        "date obligatoire (ou ne donner que le courriel d'un juré de l'annuaire)"
    ]
