"""Microsoft app-only tokens (MSAL client credentials) and the TLS trust both sides use.

The same application registration serves Microsoft Graph (:data:`SCOPES`) and IMAP on Exchange
Online (:data:`IMAP_SCOPES`, with the ``IMAP.AccessAsApp`` permission); only the scope differs.

- :class:`GraphCredential`: the app registration (tenant, client id) and its secret, or a
  certificate (PEM file holding the private key and the certificate);
- :class:`TokenSource`: ``acquire_token_for_client`` of MSAL, whose cache gives the same token
  until less than 5 minutes are left (MSAL then fetches a new one: renewal before expiry). The
  token cache and MSAL's HTTP cache (OpenID discovery, replays of a 429 from the token endpoint)
  are kept per credential for the life of the process (:data:`SHARED`), so a target made for each
  pass does not ask for a token each pass. MSAL's HTTP goes through the target's own httpx client
  (:class:`MsalHttp`), so one TLS trust serves the token endpoint and Graph;
- :func:`tls_trust`: the ``ca_bundle`` setting, else ``REQUESTS_CA_BUNDLE`` (what MSAL's requests
  would have used), else ``SSL_CERT_FILE`` (what httpx uses), else the system's store;
- Microsoft Entra's refusals become one French line (expired or revoked secret, unknown
  application or tenant), never with the secret in it.

MSAL refuses an ``http://`` authority; a non-default authority host (national clouds, the tests'
emulator) is used without Microsoft's instance discovery (``instance_discovery=False``).
"""

from __future__ import annotations

import hashlib
import os
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import msal

from syncsvc.errors import PermanentError, TemporaryError, Unreachable

DEFAULT_AUTHORITY = "https://login.microsoftonline.com/"
SCOPES = ("https://graph.microsoft.com/.default",)
IMAP_SCOPES = ("https://outlook.office365.com/.default",)
"""IMAP (and POP, SMTP) of Exchange Online for an application (``IMAP.AccessAsApp``)."""
AADSTS_HINTS = {
    "AADSTS7000215": "secret de l'application invalide (révoqué ou mal copié ?)",
    "AADSTS7000222": "secret de l'application expiré",
    "AADSTS700027": "certificat de l'application refusé (révoqué, expiré ou non enregistré ?)",
    "AADSTS700016": "application inconnue dans ce locataire (client_id ?)",
    "AADSTS90002": "locataire introuvable (tenant_id ?)",
}


@dataclass(frozen=True)
class GraphCredential:
    """An app registration and what proves it: a client secret, or a PEM certificate file."""

    tenant_id: str
    client_id: str
    secret: str | None = None
    certificate_file: Path | None = None
    authority: str = DEFAULT_AUTHORITY

    @property
    def authority_url(self) -> str:
        return self.authority.rstrip("/") + "/" + self.tenant_id

    def msal_credential(self) -> str | dict[str, str]:
        if self.secret is not None:
            return self.secret
        if self.certificate_file is None:
            raise PermanentError("identifiants Graph manquants (secret ou certificat)")
        from cryptography import x509

        pem = self.certificate_file.read_text(encoding="ascii")
        certificate = x509.load_pem_x509_certificate(pem.encode())
        thumbprint = certificate.fingerprint(hashes_sha1()).hex()
        return {"private_key": pem, "thumbprint": thumbprint, "public_certificate": pem}

    def cache_key(self) -> tuple[str, ...]:
        proof = self.secret or str(self.certificate_file)
        digest = hashlib.sha256(proof.encode()).hexdigest()
        return (self.authority_url.lower(), self.client_id, digest)


def hashes_sha1() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA1()  # the certificate thumbprint Entra ID matches (x5t)


def tls_trust(ca_bundle: Path | None) -> ssl.SSLContext | bool:
    """What to trust: ``ca_bundle``, else REQUESTS_CA_BUNDLE, else SSL_CERT_FILE, else the
    system's store (True)."""
    for candidate in (
        ca_bundle,
        os.environ.get("REQUESTS_CA_BUNDLE"),
        os.environ.get("SSL_CERT_FILE"),
    ):
        if candidate:
            return ssl.create_default_context(cafile=str(candidate))
    return True


class MsalHttp:
    """The HTTP client MSAL expects (``get``/``post``/``close``), over the target's httpx client."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def get(self, url: str, params: Any = None, headers: Any = None, **kwargs: Any) -> Any:
        return self.client.get(url, params=params, headers=headers, timeout=kwargs.get("timeout"))

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> Any:
        if isinstance(data, dict):  # MSAL may pass the client assertion as bytes
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self.client.post(
            url, params=params, data=data, headers=headers, timeout=kwargs.get("timeout")
        )

    def close(self) -> None:
        """The target closes its client."""


@dataclass
class _Caches:
    tokens: msal.TokenCache = field(default_factory=msal.TokenCache)
    http: dict[Any, Any] = field(default_factory=dict)


class SharedCaches:
    """MSAL's token and HTTP caches, one pair per credential, for the life of the process."""

    def __init__(self) -> None:
        self._caches: dict[tuple[str, ...], _Caches] = {}
        self._lock = threading.Lock()

    def get(self, credential: GraphCredential) -> _Caches:
        with self._lock:
            return self._caches.setdefault(credential.cache_key(), _Caches())

    def clear(self) -> None:
        with self._lock:
            self._caches.clear()


SHARED = SharedCaches()


class TokenSource:
    """App-only bearer tokens (for Graph by default), cached and renewed by MSAL.

    ``label`` starts every French error (default: « cible « name » »); ``service`` names what
    the token is for in a refusal; ``scopes``: :data:`SCOPES` or :data:`IMAP_SCOPES`."""

    def __init__(
        self,
        name: str,
        credential: GraphCredential,
        client: httpx.Client,
        caches: SharedCaches | None = None,
        *,
        scopes: tuple[str, ...] = SCOPES,
        label: str | None = None,
        service: str = "Microsoft Graph",
    ) -> None:
        self.name = name
        self.credential = credential
        self.client = client
        self.scopes = scopes
        self.label = label or f"cible « {name} »"
        self.service = service
        self._caches = (caches or SHARED).get(credential)
        self._app: msal.ConfidentialClientApplication | None = None
        self._lock = threading.Lock()

    def _application(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            custom = not self.credential.authority.lower().startswith(DEFAULT_AUTHORITY)
            self._app = msal.ConfidentialClientApplication(
                self.credential.client_id,
                client_credential=self.credential.msal_credential(),
                authority=self.credential.authority_url,
                token_cache=self._caches.tokens,
                http_client=MsalHttp(self.client),
                http_cache=self._caches.http,
                instance_discovery=False if custom else None,
            )
        return self._app

    def token(self) -> str:
        """A valid access token (from the cache while more than 5 minutes are left)."""
        with self._lock:
            try:
                result = self._application().acquire_token_for_client(scopes=list(self.scopes))
            except (httpx.ConnectError, OSError) as exc:
                raise Unreachable(
                    f"{self.label} : service d'authentification Microsoft injoignable "
                    f"({type(exc).__name__})"
                ) from None
            except httpx.HTTPError as exc:
                raise TemporaryError(
                    f"{self.label} : authentification Microsoft interrompue ({type(exc).__name__})"
                ) from None
            except ValueError as exc:  # MSAL: bad authority, unreadable certificate…
                raise PermanentError(
                    f"{self.label} : configuration d'authentification refusée par MSAL "
                    f"({str(exc)[:200]})"
                ) from None
            except msal.exceptions.MsalServiceError as exc:  # 5xx of the token endpoint
                raise TemporaryError(
                    f"{self.label} : service d'authentification Microsoft en erreur "
                    f"({exc.error or type(exc).__name__})"
                ) from None
        if "access_token" in result:
            return str(result["access_token"])
        raise self._refusal(result)

    def _refusal(self, result: dict[str, Any]) -> Exception:
        error = str(result.get("error") or "")
        description = str(result.get("error_description") or "")
        codes = [code for code in AADSTS_HINTS if code in description]
        if error in ("temporarily_unavailable", "server_error") or "429" in description:
            return TemporaryError(f"{self.label} : Microsoft Entra demande d'attendre ({error})")
        hint = AADSTS_HINTS[codes[0]] if codes else "identifiants de l'application refusés"
        return PermanentError(
            f"{self.label} : jeton {self.service} refusé : {hint} "
            f"({codes[0] if codes else error or 'erreur inconnue'}) ; créer un nouveau secret "
            "(ou certificat) dans l'inscription de l'application, puis mettre à jour "
            "client_secret_env / client_secret_file"
        )

    def forget(self) -> None:
        """Drop the cached token (Graph refused it: revoked consent, rotated secret)."""
        with self._lock:
            if self._app is not None:
                self._app.remove_tokens_for_client()
