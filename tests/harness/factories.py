"""Small builders of valid models, for tests that vary one field at a time."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import yaml

from syncsvc.core.model import Centre, Session

CENTRE: dict[str, Any] = {
    "id": "centre-test",
    "name": "Centre de test",
    "timezone": "Europe/Paris",
    "holiday_zone": "metropole",
    "exam_office_email": "examens@centre.example",
    "ud_email": "ud@ddets.example",
    "sector": "tertiaire",
    "agrements": [{"title_code": "TP-00374", "until": date(2035, 12, 31), "max_candidates": 15}],
}

SESSION: dict[str, Any] = {
    "id": "sa-test",
    "title": {"code": "TP-00374", "acronym": "SA", "label": "Secrétaire assistant"},
    "nature": "titre",
    "centre": "centre-test",
    "start": date(2027, 3, 15),
    "end": date(2027, 3, 19),
    "first_day_start": "08:30",
    "candidates": {"training": 10, "vae": 2},
    "session_manager": {"name": "Jean Hoarau", "email": "jean@centre.example"},
    "coordinators": [{"name": "Nathalie Técher", "email": "nathalie@centre.example"}],
    "jury": [
        {"name": "Corinne Maillot", "email": "c@jury.example", "habilitation_until": "2030-01-01"},
        {"name": "Patrick Fontaine", "email": "p@jury.example", "habilitation_until": "2030-01-01"},
    ],
    "declared_on": date(2026, 11, 20),
}


def centre(**changes: Any) -> Centre:
    return Centre.model_validate({**CENTRE, **changes})


def session(**changes: Any) -> Session:
    return Session.model_validate({**SESSION, **changes})


class _Written(yaml.SafeDumper):
    """As a person writes YAML: the same value twice is written twice (no anchor, no alias)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _yaml(body: Any) -> str:
    return yaml.dump(body, Dumper=_Written, allow_unicode=True, sort_keys=False)


def write_config(folder: Path, sessions: list[dict[str, Any]], *centres: dict[str, Any]) -> Path:
    """A configuration folder in ``folder``: ``centres.yaml`` holding ``centres`` (the default
    :data:`CENTRE` when none is given) and one ``sessions/<id>.yaml`` per session, written as a
    person would write them (YAML), so that they go through the loader like real files."""
    root = folder / "config"
    (root / "sessions").mkdir(parents=True)
    blocks = {c["id"]: {k: v for k, v in c.items() if k != "id"} for c in centres or (CENTRE,)}
    (root / "centres.yaml").write_text(_yaml(blocks), encoding="utf-8")
    for body in sessions:
        (root / "sessions" / f"{body['id']}.yaml").write_text(_yaml(body), encoding="utf-8")
    return root
