"""Google credentials: a service account (optionally with domain-wide delegation) or an
authorized-user token file, read by path; their content never appears in an error."""

from __future__ import annotations

from pathlib import Path

from google.auth.credentials import Credentials

from syncsvc.errors import PermanentError

SCOPES = ("https://www.googleapis.com/auth/calendar.events",)


def load_credentials(
    name: str,
    base: Path,
    *,
    token_file: Path | None = None,
    service_account_file: Path | None = None,
    subject: str | None = None,
) -> Credentials:
    """Service-account JSON (``subject``: domain-wide delegation) or an authorized-user token
    file, by path (relative to ``base``). The file's content is never shown in errors."""

    def resolve(path: Path) -> Path:
        return path if path.is_absolute() else base / path

    path: Path | None = None
    try:
        if service_account_file is not None:
            from google.oauth2 import service_account

            path = resolve(service_account_file)
            account: service_account.Credentials = (
                service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    str(path), scopes=list(SCOPES)
                )
            )
            if subject:
                account = account.with_subject(subject)  # type: ignore[no-untyped-call]
            return account
        if token_file is not None:
            from google.oauth2.credentials import Credentials as UserCredentials

            path = resolve(token_file)
            user: Credentials = UserCredentials.from_authorized_user_file(  # type: ignore[no-untyped-call]
                str(path)
            )
            return user
    except (OSError, ValueError, KeyError) as exc:
        raise PermanentError(
            f"cible « {name} » : identifiants Google illisibles dans {path} ({type(exc).__name__})"
        ) from None
    raise PermanentError(
        f"cible « {name} » : identifiants Google manquants (attendu : "
        'token_file = "secrets/google-token.json" ou service_account_file = "…")'
    )
