"""``[mail.inbox]`` and ``[mail.inboxes.<name>]``: a password or OAuth2, checked when loaded."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from syncsvc.inputs.problems import validation_problems
from syncsvc.inputs.settings import Settings

BASE = {"host": "imap.example", "username": "examens@centre.example"}


def problems(inbox: dict[str, Any]) -> list[str]:
    try:
        Settings.model_validate({"mail": {"inbox": inbox}})
    except ValidationError as exc:
        return [
            f"{p.field}: {p.message}" for p in validation_problems("syncsvc.toml", exc, Settings)
        ]
    return []


def test_an_existing_password_inbox_stays_valid() -> None:
    assert problems({**BASE, "password_env": "IMAP_PASSWORD"}) == []
    (missing,) = problems(BASE)
    assert "mot de passe manquant" in missing


def test_oauth2_needs_a_provider_and_its_credentials() -> None:
    (no_provider,) = problems({**BASE, "auth": "oauth2"})
    assert 'provider = "microsoft"' in no_provider
    (no_tenant,) = problems(
        {**BASE, "auth": "oauth2", "provider": "microsoft", "client_secret_env": "S"}
    )
    assert "tenant_id, client_id manquant(s)" in no_tenant
    microsoft = {
        **BASE,
        "auth": "oauth2",
        "provider": "microsoft",
        "tenant_id": "t",
        "client_id": "c",
        "client_secret_env": "S",
    }
    assert problems(microsoft) == []
    (two_proofs,) = problems({**microsoft, "client_secret_file": "secret"})
    assert "exactement un de client_secret_env" in two_proofs
    google = {**BASE, "auth": "oauth2", "provider": "google", "service_account_file": "sa.json"}
    assert problems(google) == []
    assert problems({**google, "mechanism": "oauthbearer"}) == []
    (neither,) = problems({**BASE, "auth": "oauth2", "provider": "google"})
    assert "service_account_file" in neither


@pytest.mark.parametrize(
    ("inbox", "expected"),
    [
        ({**BASE, "password_env": "P", "tenant_id": "t"}, 'qu\'avec auth = "oauth2"'),
        (
            {
                **BASE,
                "auth": "oauth2",
                "provider": "google",
                "token_file": "t.json",
                "password_env": "P",
            },
            "password_env et password_file ne s'utilisent pas",
        ),
        (
            {
                **BASE,
                "auth": "oauth2",
                "provider": "google",
                "token_file": "t.json",
                "client_id": "c",
            },
            "client_id ne s'utilise(nt) pas avec ce fournisseur",
        ),
    ],
)
def test_settings_of_the_other_login_are_refused(inbox: dict[str, Any], expected: str) -> None:
    (problem,) = problems(inbox)
    assert expected in problem
    assert problem.startswith("mail.inbox")


def test_one_mailbox_per_centre() -> None:
    lyon = {**BASE, "password_env": "P"}
    paris = {**BASE, "username": "examens@paris.example", "password_env": "P"}
    settings = Settings.model_validate({"mail": {"inbox": lyon, "inboxes": {"paris": paris}}})
    found = settings.mail.all_inboxes()
    assert [(n.label, n.position_key) for n in found] == [
        ("mail.inbox", "INBOX"),  # as before: an existing store goes on where it stopped
        ("mail.inboxes.paris", "inboxes.paris:INBOX"),
    ]
    with pytest.raises(ValidationError, match="lisent le même dossier"):
        Settings.model_validate({"mail": {"inbox": lyon, "inboxes": {"lyon": lyon}}})
    with pytest.raises(ValidationError):
        Settings.model_validate({"mail": {"inboxes": {"Paris Centre": paris}}})
