"""Whether each centre's jury replies reach a mailbox the service reads.

The jurors answer the invitation's ORGANIZER (``organizer`` of the centre in centres.yaml, else
its ``exam_office_email``); the service reads the mailboxes of ``[mail.inbox]`` and
``[mail.inboxes.<name>]``. A centre whose organizer no read mailbox receives gets answers that
are never recorded: said here, before anything is sent. Pure: the caller gives the centres and
what each mailbox receives.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from syncsvc.core.model import Centre

ORGANIZER_NOT_READ = "organizer_not_read"
INBOX_ADDRESS_UNKNOWN = "inbox_address_unknown"


@dataclass(frozen=True)
class ReadInbox:
    """A mailbox the service reads: its table in syncsvc.toml (``mail.inboxes.x``) and the
    addresses delivered to it (empty: not known, its login is not an address)."""

    label: str
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class ConfigWarning:
    """A remark about the configuration that loads anyway: ``file`` and ``where`` (the centre
    and field, or the table) say what to look at, ``code`` is stable."""

    file: str
    where: str
    message: str
    code: str
    centre: str | None = None

    def __str__(self) -> str:
        """``file, where : message``: one line that stands alone (logs, JSON, the dashboard)."""
        return f"{self.file}, {self.where} : {self.message}"


def organizer_warnings(
    centres: Mapping[str, Centre],
    inboxes: Iterable[ReadInbox],
    *,
    centres_file: str,
    settings_file: str,
) -> list[ConfigWarning]:
    """A warning for each centre whose organizer address no read mailbox receives (compared
    whole, case-insensitive). Nothing when no mailbox is read (the replies then come by link
    or by hand, by choice). A mailbox whose addresses are unknown gets a warning of its own,
    and then no centre is judged: it may be the one receiving them."""
    read = list(inboxes)
    if not read:
        return []
    unknown = [inbox for inbox in read if not inbox.addresses]
    if unknown:
        return [
            ConfigWarning(
                settings_file,
                f"[{inbox.label}]",
                "l'identifiant de connexion (username) n'est pas une adresse e-mail : impossible "
                "de vérifier quels centres y reçoivent les réponses du jury (attendu : "
                'address = "adresse@de.la.boite", et aliases = […] pour les autres adresses '
                "qu'elle reçoit)",
                INBOX_ADDRESS_UNKNOWN,
            )
            for inbox in unknown
        ]
    received = {address.strip().lower() for inbox in read for address in inbox.addresses}
    settings_name = settings_file.replace("\\", "/").rsplit("/", 1)[-1]
    tables = ", ".join(f"[{inbox.label}]" for inbox in read)
    warnings = []
    for centre in centres.values():
        address = centre.organizer_email
        if address.strip().lower() in received:
            continue
        field = "organizer" if centre.organizer else "organizer (non écrit : exam_office_email)"
        warnings.append(
            ConfigWarning(
                centres_file,
                f"centre « {centre.id} », {field} « {address} »",
                f"aucune boîte lue ({tables}) ne reçoit cette adresse ; les réponses du jury "
                f"n'y seront pas relevées (attendu : dans {settings_name}, cette adresse en "
                "address ou dans aliases de la table de la boîte où elle arrive, ou une table "
                "[mail.inboxes.<nom>] pour cette boîte ; ou un organizer qu'une boîte lue "
                "reçoit)",
                ORGANIZER_NOT_READ,
                centre.id,
            )
        )
    return warnings
