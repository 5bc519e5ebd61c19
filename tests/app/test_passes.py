"""Faults that must stay boring: one French line per failed pass, a growing delay."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import OperationalError

from syncsvc.app.passes import Backoff, reason_of


def test_disk_full_and_read_only_are_said_in_french() -> None:
    full = OperationalError("INSERT …", {}, sqlite3.OperationalError("database or disk is full"))
    assert reason_of(full) == "disque plein : la base d'état ne peut plus rien enregistrer"
    read_only = OSError(30, "Read-only file system")
    assert reason_of(read_only) == "base d'état en lecture seule (droits ou système de fichiers)"
    locked = OperationalError(
        "UPDATE …", {}, sqlite3.OperationalError("attempt to write a readonly database")
    )
    assert "lecture seule" in reason_of(locked)
    assert reason_of(KeyError("x")) == "erreur interne (KeyError)"


def test_the_delay_grows_then_resets() -> None:
    now = [0.0]
    backoff = Backoff(first=10, longest=60, clock=lambda: now[0])
    assert backoff.ready()
    assert [backoff.failed() for _ in range(4)] == [10, 20, 40, 60]
    assert not backoff.ready()
    now[0] = 61
    assert backoff.ready()
    backoff.succeeded()
    assert backoff.failed() == 10
