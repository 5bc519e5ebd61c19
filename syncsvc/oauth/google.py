"""Google credentials: a service account (optionally with domain-wide delegation) or an
authorized-user token file, read by path; their content never appears in an error.

The calendar adapter hands the credentials to its HTTP client (which refreshes them);
:class:`GoogleTokens` gives the bare access token that IMAP's XOAUTH2 needs (Gmail, scope
:data:`MAIL_SCOPES`), refreshed when less than google-auth's margin is left.
"""

from __future__ import annotations

import threading
from pathlib import Path

from google.auth.credentials import Credentials

from syncsvc.errors import PermanentError, TemporaryError, Unreachable

SCOPES = ("https://www.googleapis.com/auth/calendar.events",)
MAIL_SCOPES = ("https://mail.google.com/",)
"""The only scope Gmail's IMAP accepts."""


def load_credentials(
    name: str,
    base: Path,
    *,
    token_file: Path | None = None,
    service_account_file: Path | None = None,
    subject: str | None = None,
    scopes: tuple[str, ...] = SCOPES,
    label: str | None = None,
) -> Credentials:
    """Service-account JSON (``subject``: domain-wide delegation) or an authorized-user token
    file, by path (relative to ``base``). The file's content is never shown in errors.
    ``label`` starts the French errors (default: « cible « name » »)."""
    label = label or f"cible « {name} »"

    def resolve(path: Path) -> Path:
        return path if path.is_absolute() else base / path

    path: Path | None = None
    try:
        if service_account_file is not None:
            from google.oauth2 import service_account

            path = resolve(service_account_file)
            account: service_account.Credentials = (
                service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                    str(path), scopes=list(scopes)
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
            )  # the scopes the person granted when the token file was made
            return user
    except (OSError, ValueError, KeyError) as exc:
        raise PermanentError(
            f"{label} : identifiants Google illisibles dans {path} ({type(exc).__name__})"
        ) from None
    raise PermanentError(
        f"{label} : identifiants Google manquants (attendu : "
        'token_file = "secrets/google-token.json" ou service_account_file = "…")'
    )


class GoogleTokens:
    """Bare access tokens from Google credentials (for XOAUTH2), cached until google-auth
    judges them near expiry; :meth:`forget` makes the next :meth:`token` fetch a new one."""

    def __init__(
        self, label: str, credentials: Credentials, *, timeout: float = 30.0, setting: str
    ) -> None:
        self.label = label
        self.credentials = credentials
        self.timeout = timeout
        self.setting = setting
        """The setting that holds the credentials, named in a refusal."""
        self._lock = threading.Lock()
        self._stale = False

    def token(self) -> str:
        import google_auth_httplib2
        import httplib2
        from google.auth import exceptions

        with self._lock:
            if self._stale or not self.credentials.valid:
                request = google_auth_httplib2.Request(httplib2.Http(timeout=self.timeout))
                try:
                    self.credentials.refresh(request)  # type: ignore[no-untyped-call]
                except exceptions.RefreshError as exc:
                    if getattr(exc, "retryable", False):
                        raise TemporaryError(
                            f"{self.label} : service d'authentification Google en erreur"
                        ) from None
                    raise PermanentError(
                        f"{self.label} : jeton Google refusé ({_grant_error(exc)}) ; vérifier "
                        f"{self.setting} (compte de service : délégation au niveau du domaine "
                        "avec le champ d'application https://mail.google.com/ ; fichier de "
                        "jeton : consentement à ce même champ d'application)"
                    ) from None
                except exceptions.TransportError as exc:
                    raise Unreachable(
                        f"{self.label} : service d'authentification Google injoignable "
                        f"({type(exc).__name__})"
                    ) from None
                except (OSError, ValueError) as exc:
                    raise TemporaryError(
                        f"{self.label} : authentification Google interrompue ({type(exc).__name__})"
                    ) from None
                self._stale = False
            token = self.credentials.token
        if not token:
            raise PermanentError(f"{self.label} : Google n'a rendu aucun jeton d'accès")
        return str(token)

    def forget(self) -> None:
        """The server refused the token: fetch a new one next time."""
        with self._lock:
            self._stale = True


def _grant_error(exc: Exception) -> str:
    """The OAuth error code only (``invalid_grant``…): never the response's other fields."""
    text = str(exc.args[0]) if exc.args else ""
    code = text.split(":", 1)[0].strip()
    return code if code.replace("_", "").isalnum() and len(code) <= 40 else "refus"
