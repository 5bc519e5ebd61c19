"""What every check module shares: how a finding is added, how the UD and the candidates are
named in a message (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from syncsvc.core.model import Centre, Milestone, Severity

MIN_JURY = 2
"""At least two jury members evaluate the candidates (guide de préparation de la session)."""


class Add(Protocol):
    """Adds one finding about the session being checked (``juror``: the e-mail of the jury
    member it is about, when it is about one)."""

    def __call__(
        self, code: str, severity: Severity, message: str, juror: str | None = None
    ) -> None: ...


def ud(centre: Centre) -> str:
    """The centre's own unité départementale, as a message names it:
    ``DDETS du Rhône (ddets-69-certification@ddets.example)``."""
    return f"{centre.ud_name} ({centre.ud_email})"


def listed(numbers: Sequence[int]) -> str:
    """Candidates by their rank in the session file's list, never by name (findings go to logs
    and dashboards): ``le candidat n° 2 de la liste``, ``les candidats n° 1, 3 et 4 de la
    liste``."""
    if len(numbers) == 1:
        return f"le candidat n° {numbers[0]} de la liste"
    ranks = [str(n) for n in numbers]
    return f"les candidats n° {', '.join(ranks[:-1])} et {ranks[-1]} de la liste"


def milestone(milestones: Iterable[Milestone], milestone_id: str) -> Milestone | None:
    return next((m for m in milestones if m.id == milestone_id), None)
