"""The configuration's warnings about where the jury's replies arrive (see
:mod:`syncsvc.core.mailboxes`), for ``syncsvc validate``, the daemon's log and the dashboard."""

from __future__ import annotations

from collections.abc import Mapping

from syncsvc.core.config import Config
from syncsvc.core.fields import spelling
from syncsvc.core.mailboxes import ConfigWarning, ReadInbox, organizer_warnings
from syncsvc.core.model import Centre
from syncsvc.inputs.settings import Settings, settings_path


def mailbox_warnings(
    config: Config, settings: Settings, centres: Mapping[str, Centre] | None = None
) -> list[ConfigWarning]:
    """Each centre (of ``config``, or ``centres``: a centre as a form would change it) whose
    organizer no mailbox of ``settings`` receives (none when no mailbox is read, or
    centres.yaml did not load any centre)."""
    inboxes = [
        ReadInbox(named.label, named.settings.received_addresses)
        for named in settings.mail.all_inboxes()
    ]
    return organizer_warnings(
        config.centres if centres is None else centres,
        inboxes,
        centres_file=spelling(str(config.directory / "centres.yaml")),
        settings_file=spelling(str(settings_path(config.directory))),
    )
