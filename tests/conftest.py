from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.harness.dovecot import ImapServer, dovecot_server, ensure_dovecot

settings.register_profile("default", deadline=None)
settings.register_profile(
    "ci", deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


# --- a real IMAP server (Dovecot), one per test session, a fresh mailbox per test ----------


@pytest.fixture(scope="session")
def dovecot() -> Iterator[ImapServer]:
    """Dovecot on 127.0.0.1 for the whole test session (installed when allowed, see
    :func:`tests.harness.dovecot.ensure_dovecot`); skipped without it, a failure in CI."""
    reason = ensure_dovecot()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"Dovecot is needed in CI: {reason}")
        pytest.skip(reason)
    with dovecot_server() as server:
        yield server


@pytest.fixture
def imap_user(dovecot: ImapServer) -> str:
    """A user of the session's Dovecot with an empty mailbox, for this test alone."""
    return dovecot.add_user()
