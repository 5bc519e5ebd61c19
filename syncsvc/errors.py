"""Every error syncsvc raises on purpose, in one tree. Each says what happens next::

    SyncsvcError
     ├── ConfigError(problems)          the configuration cannot be used as it is: every problem,
     │                                  each naming its file and field, in French
     ├── UsageError(status)             a mistake on the command line or in a form (one French
     │                                  line; ``status`` is the HTTP answer for the web)
     ├── MassDeleteRefused              a plan would delete a surprising share of a target:
     │                                  nothing is written; ``--force`` overrides
     ├── NotActive                      this process does not (or no longer) hold the instance
     │                                  lock: it must not send or write anything
     └── RemoteError(status)            a calendar or mail server said no (status: HTTP or SMTP)
          ├── TemporaryError(retry_after)   down, timeout, 429/423/5xx, SMTP 4xx: retry later
          │    └── Unreachable              no connection at all: stop this target for this pass
          ├── PermanentError                retrying is useless (401, 403, 400, SMTP 5xx)
          ├── PreconditionFailed            412/409: the remote item exists or changed since seen
          └── NotFound                      404/410: the remote item (or calendar) is gone

Adapters translate their protocol's answers into these classes in one place each; the
application layer decides what to do from the class alone, never from a message's text.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class SyncsvcError(Exception):
    """Root of every error syncsvc raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong in one file: ``file: field: message (attendu : …)``, or
    ``file: ligne 12, field: message`` when the line where the field is written is known (a
    YAML file, see :func:`syncsvc.inputs.yaml_files.field_lines`)."""

    file: str
    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        if not self.field:
            return f"{self.file}: {self.message}"
        if self.line is not None:
            return f"{self.file}: ligne {self.line}, {self.field}: {self.message}"
        return f"{self.file}: {self.field}: {self.message}"


class ConfigError(SyncsvcError):
    """The configuration cannot be used; ``problems`` lists each with its file and field."""

    def __init__(self, message: str | Iterable[Problem]) -> None:
        if isinstance(message, str):
            self.problems: tuple[Problem, ...] = ()
            text = message
        else:
            self.problems = tuple(message)
            text = "\n".join(str(p) for p in self.problems)
        super().__init__(text)


class UsageError(SyncsvcError):
    """A mistake in what a person asked for (command line, form): one French line."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class MassDeleteRefused(SyncsvcError):
    """The plan would delete a surprising share of a target's items; ``--force`` overrides."""

    def __init__(self, target: str, deletes: int, total: int, max_share: float) -> None:
        self.target, self.deletes, self.total, self.max_share = target, deletes, total, max_share
        super().__init__(
            f"cible « {target} » : {deletes} suppressions sur {total} éléments "
            f"(plus de {max_share:.0%}) refusées par sécurité ; vérifier le dossier des "
            "sessions, puis relancer avec --force si c'est voulu"
        )


class NotActive(SyncsvcError):
    """This process does not hold the instance lock (or lost it): no send, no write."""


class RemoteError(SyncsvcError):
    """A remote server refused or failed; ``status`` is its HTTP or SMTP code when known."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TemporaryError(RemoteError):
    """Worth retrying later; ``retry_after`` (seconds) when the server said how long."""

    def __init__(
        self, message: str, retry_after: float | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, status)
        self.retry_after = retry_after


class Unreachable(TemporaryError):
    """No connection at all: the rest of this pass for this server is pointless."""


class PermanentError(RemoteError):
    """Retrying the same request will fail the same way."""


class PreconditionFailed(RemoteError):
    """The remote item exists, or changed since it was last seen (412, 409)."""


class NotFound(RemoteError):
    """The remote item or collection is gone (404, 410)."""
