"""The organiser's inbox over OAuth2 (SASL XOAUTH2 and OAUTHBEARER) on a real Dovecot.

Dovecot checks each token with its ``oauth2`` passdb against an introspection endpoint
(:mod:`tests.harness.introspection`) that knows the tokens of the emulators' token endpoints:
Microsoft Entra's client credentials (the Graph emulator, scope of Exchange Online's IMAP) and
Google's token endpoint (the Calendar emulator, a service account with domain-wide delegation,
scope ``https://mail.google.com/``). The replies are the client fixtures of test_inbox.py.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncsvc.app.inbox import read_inbox
from syncsvc.app.notify import notify
from syncsvc.errors import PermanentError
from syncsvc.inputs.loader import load_config, load_ruleset
from syncsvc.oauth.microsoft import SHARED
from syncsvc.state.store import Store
from tests.adapters.mail.conftest import NOW, SmtpServer, mail_settings
from tests.adapters.mail.test_inbox import GIRARD, LEFEVRE, PROCESSED, reply
from tests.harness.dovecot import ImapServer, dovecot_server, ensure_dovecot
from tests.harness.google_emulator import CalendarEmulator, write_service_account
from tests.harness.graph_emulator import GraphEmulator
from tests.harness.introspection import (
    Introspection,
    entra_issuer,
    google_issuer,
    introspection_server,
)

SECRET_ENV = "SYNCSVC_TEST_IMAP_CLIENT_SECRET"
SECRET = "s3cret-value"
GOOGLE_TOKEN = "google-imap-token"


@pytest.fixture(scope="module")
def introspection() -> Iterator[Introspection]:
    with introspection_server() as running:
        yield running


@pytest.fixture(scope="module")
def dovecot(introspection: Introspection) -> Iterator[ImapServer]:
    """Overrides the session's Dovecot: this one also takes OAuth2 tokens."""
    reason = ensure_dovecot()
    if reason is not None:
        pytest.skip(reason)
    with dovecot_server(oauth2_introspection=introspection.url) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(introspection: Introspection) -> Iterator[None]:
    SHARED.clear()
    introspection.issuers.clear()
    introspection.refuse_all = False
    introspection.asked = 0
    yield
    SHARED.clear()


@pytest.fixture
def graph(tmp_path: Path, imap_user: str, introspection: Introspection) -> Iterator[GraphEmulator]:
    with GraphEmulator(folder=tmp_path / "graph", secret=SECRET) as running:
        introspection.issuers.append(entra_issuer(running.entra, imap_user))
        yield running


@pytest.fixture
def google(imap_user: str, introspection: Introspection) -> Iterator[CalendarEmulator]:
    with CalendarEmulator(token=GOOGLE_TOKEN, fresh_tokens=True) as running:
        introspection.issuers.append(google_issuer(running))
        yield running


class Inbox:
    """Invitations sent; an OAuth2 inbox to read with :meth:`read`."""

    def __init__(
        self, smtp: SmtpServer, store: Store, config_dir: Path, imap: ImapServer, user: str
    ) -> None:
        self.smtp, self.store, self.config_dir, self.imap, self.user = (
            smtp,
            store,
            config_dir,
            imap,
            user,
        )
        settings = mail_settings(smtp.port, rate_per_minute=100_000)
        self.config = load_config(config_dir, load_ruleset(settings.ruleset))
        notify(settings, self.config, store, NOW)

    def read(self, **inbox: Any) -> Any:
        values = {
            "host": self.imap.host,
            "port": self.imap.port,
            "security": "none",
            "username": self.user,
            "auth": "oauth2",
            **inbox,
        }
        settings = mail_settings(self.smtp.port, inbox=values)
        return read_inbox(settings, self.config, self.store, NOW)


@pytest.fixture
def inbox(
    smtp_server: SmtpServer,
    store: Store,
    config_dir: Path,
    dovecot: ImapServer,
    imap_user: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Inbox:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return Inbox(smtp_server, store, config_dir, dovecot, imap_user)


def microsoft(graph: GraphEmulator, **more: Any) -> dict[str, Any]:
    return {
        "provider": "microsoft",
        "tenant_id": graph.entra.tenant,
        "client_id": graph.entra.client_id,
        "client_secret_env": SECRET_ENV,
        "authority": graph.authority,
        "ca_bundle": str(graph.tls.ca_file),
        **more,
    }


@pytest.mark.parametrize("mechanism", ["xoauth2", "oauthbearer"])
def test_an_exchange_online_style_inbox_is_read_with_an_app_token(
    inbox: Inbox,
    graph: GraphEmulator,
    introspection: Introspection,
    mechanism: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    inbox.imap.append(inbox.user, reply("outlook-accepted.eml"))

    report = inbox.read(**microsoft(graph, mechanism=mechanism))

    assert (report.looked, report.recorded, report.processed) == (1, 1, 1)
    assert [r.email for r in inbox.store.jury_replies()] == [GIRARD]
    assert len(inbox.imap.messages(inbox.user, PROCESSED)) == 1
    assert graph.token_requests == 1
    # the next pass (a new connection) uses the cached token
    inbox.imap.append(inbox.user, reply("gmail-accepted.eml"))
    again = inbox.read(**microsoft(graph, mechanism=mechanism))
    assert again.recorded == 1
    assert graph.token_requests == 1
    assert introspection.asked == 2
    # even at DEBUG (IMAPClient's protocol trace, MSAL), neither the token nor the secret
    (token,) = graph.entra.tokens
    assert "AUTHENTICATE **REDACTED**" in caplog.text  # the IMAP trace was captured
    assert token not in caplog.text
    assert SECRET not in caplog.text


def test_an_expired_token_is_replaced_once(
    inbox: Inbox, graph: GraphEmulator, introspection: Introspection
) -> None:
    assert inbox.read(**microsoft(graph)).looked == 0
    graph.entra.expire_tokens()  # expired, or revoked, while the service held it
    inbox.imap.append(inbox.user, reply("outlook-accepted.eml"))

    report = inbox.read(**microsoft(graph))

    assert report.recorded == 1
    assert graph.token_requests == 2


def test_a_token_refused_twice_is_a_clear_error_and_nothing_moves(
    inbox: Inbox, graph: GraphEmulator, introspection: Introspection
) -> None:
    inbox.imap.append(inbox.user, reply("outlook-accepted.eml"))
    introspection.refuse_all = True  # e.g. Add-MailboxPermission never done

    with pytest.raises(PermanentError) as refused:
        inbox.read(**microsoft(graph))

    message = str(refused.value)
    assert f"jeton OAuth2 refusé pour {inbox.user}" in message
    assert "IMAP.AccessAsApp" in message
    assert "Add-MailboxPermission" in message
    assert "mail.inbox" in message
    assert graph.token_requests == 2  # a new token was tried once, not more
    assert introspection.asked == 2
    assert not any(token in message for token in graph.entra.tokens)
    assert inbox.imap.messages(inbox.user) == [reply("outlook-accepted.eml")]
    assert inbox.store.jury_replies() == []


def test_a_wrong_client_secret_is_a_permanent_error_in_french(
    inbox: Inbox,
    graph: GraphEmulator,
    introspection: Introspection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox.imap.append(inbox.user, reply("outlook-accepted.eml"))
    monkeypatch.setenv(SECRET_ENV, "pas-le-bon-secret")

    with pytest.raises(PermanentError) as refused:
        inbox.read(**microsoft(graph))

    message = str(refused.value)
    assert message.startswith("mail.inbox : jeton IMAP Exchange Online refusé")
    assert "secret de l'application invalide" in message
    assert "client_secret_env" in message
    assert "pas-le-bon-secret" not in message
    assert introspection.asked == 0  # the IMAP server never saw a token
    assert inbox.imap.messages(inbox.user) == [reply("outlook-accepted.eml")]
    assert inbox.imap.messages(inbox.user, PROCESSED) == []


def test_a_google_workspace_inbox_is_read_through_domain_wide_delegation(
    inbox: Inbox, google: CalendarEmulator, introspection: Introspection
) -> None:
    write_service_account(inbox.config_dir / "google-sa.json", google.token_uri)
    inbox.imap.append(inbox.user, reply("gmail-accepted.eml"))
    settings = {"provider": "google", "service_account_file": "google-sa.json"}

    report = inbox.read(**settings)

    assert report.recorded == 1
    assert [r.email for r in inbox.store.jury_replies()] == [LEFEVRE]
    # the service account impersonated the mailbox's user
    assert google.grants == [("urn:ietf:params:oauth:grant-type:jwt-bearer", inbox.user)]
    # expired: a new token, once
    google.expire_tokens()
    inbox.imap.append(inbox.user, reply("outlook-accepted.eml"))
    assert inbox.read(**settings).recorded == 1
    assert len(google.grants) == 2
    assert introspection.asked == 3  # the valid token, the expired one, the new one


def _token_file(inbox: Inbox, refresh_token: str) -> None:
    """An authorized user's token file, as Google's tools write it (no access token yet)."""
    (inbox.config_dir / "google-token.json").write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "id.apps.googleusercontent.com",
                "client_secret": "not-a-secret",
                "refresh_token": refresh_token,
            }
        ),
        encoding="utf-8",
    )


@pytest.fixture
def google_token_endpoint(google: CalendarEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """google-auth always sends an authorized user's refresh token to Google's own endpoint
    (it ignores the file's ``token_uri``): point that endpoint at the emulator."""
    from google.oauth2 import credentials

    monkeypatch.setattr(credentials, "_GOOGLE_OAUTH2_TOKEN_ENDPOINT", google.token_uri)


@pytest.mark.usefixtures("google_token_endpoint")
def test_a_gmail_inbox_is_read_with_a_person_s_token_file(
    inbox: Inbox, google: CalendarEmulator, introspection: Introspection
) -> None:
    """An authorized user's token file (no service account, e.g. a personal Gmail account):
    its refresh token buys an access token for the scope the person consented to."""
    google.refresh_tokens["1//consented"] = (inbox.user, "https://mail.google.com/")
    _token_file(inbox, "1//consented")
    inbox.imap.append(inbox.user, reply("gmail-accepted.eml"))

    report = inbox.read(provider="google", token_file="google-token.json")

    assert report.recorded == 1
    assert [r.email for r in inbox.store.jury_replies()] == [LEFEVRE]
    assert google.grants == [("refresh_token", inbox.user)]
    assert introspection.asked == 1
    assert len(inbox.imap.messages(inbox.user, PROCESSED)) == 1


@pytest.mark.usefixtures("google_token_endpoint")
def test_a_revoked_refresh_token_is_a_clear_error_and_nothing_moves(
    inbox: Inbox, google: CalendarEmulator
) -> None:
    google.refresh_tokens["1//other"] = (inbox.user, "https://mail.google.com/")
    _token_file(inbox, "1//revoked")
    inbox.imap.append(inbox.user, reply("gmail-accepted.eml"))

    with pytest.raises(PermanentError) as raised:
        inbox.read(provider="google", token_file="google-token.json")

    assert "token_file" in str(raised.value)
    assert "1//revoked" not in str(raised.value)
    assert inbox.store.jury_replies() == []
    assert inbox.imap.messages(inbox.user, PROCESSED) == []
    assert len(inbox.imap.messages(inbox.user)) == 1
