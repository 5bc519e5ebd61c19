"""The Microsoft Entra side of the Graph emulator: OpenID discovery and the v2.0 token endpoint.

Client credentials only (``grant_type=client_credentials``, scope ``…/.default`` of Graph or of
Exchange Online's IMAP, each token remembering its scope), proved by a
client secret or a certificate assertion (a JWT signed with the registered certificate's key,
``x5t`` its SHA-1 thumbprint). Refusals are Entra's: ``invalid_client`` with AADSTS7000215
(wrong or revoked secret) or AADSTS7000222 (expired secret), ``unauthorized_client`` with
AADSTS700016 (unknown application), ``invalid_request`` with AADSTS90002 (unknown tenant).
Tokens are opaque here and expire after ``lifetime`` seconds; Graph answers 401
``InvalidAuthenticationToken`` to an expired, revoked or unknown one.
"""

from __future__ import annotations

import base64
import json
import time
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.harness.graph_mailbox import ApiError

if TYPE_CHECKING:
    from tests.harness.graph_emulator import Answer, GraphEmulator

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
IMAP_SCOPE = "https://outlook.office365.com/.default"


def _b64(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


class Entra:
    def __init__(self, tenant: str, client_id: str, secret: str, lifetime: int) -> None:
        self.tenant = tenant
        self.client_id = client_id
        self.secrets: dict[str, str] = {secret: "valid"}
        self.certificates: dict[str, x509.Certificate] = {}
        self.lifetime = lifetime
        self.tokens: dict[str, float] = {}
        self.scopes: dict[str, str] = {}
        """The scope each token was issued for."""

    # --- test controls ------------------------------------------------------------------

    def expire_secret(self, secret: str) -> None:
        self.secrets[secret] = "expired"

    def revoke_secret(self, secret: str) -> None:
        self.secrets.pop(secret, None)

    def add_secret(self, secret: str) -> None:
        self.secrets[secret] = "valid"

    def register_certificate(self, pem: bytes) -> None:
        certificate = x509.load_pem_x509_certificate(pem)
        self.certificates[certificate.fingerprint(hashes.SHA1()).hex()] = certificate

    def expire_tokens(self) -> None:
        self.tokens = dict.fromkeys(self.tokens, 0.0)

    # --- HTTP ------------------------------------------------------------------------------

    def serve(self, emulator: GraphEmulator, method: str, path: str, body: bytes) -> Answer:
        from tests.harness.graph_emulator import Answer

        parts = path.strip("/").split("/")
        if len(parts) < 2:
            return Answer(404, {}, {"error": "not_found"})
        tenant, rest = parts[0], "/".join(parts[1:])
        if rest == "v2.0/.well-known/openid-configuration" and method == "GET":
            with emulator.lock:
                emulator.discovery_requests += 1
            if tenant != self.tenant:
                return self._refuse(400, "invalid_tenant", "AADSTS90002", "Tenant not found.")
            base = f"{emulator.url}/{tenant}"
            return Answer(
                200,
                {},
                {
                    "token_endpoint": f"{base}/oauth2/v2.0/token",
                    "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "issuer": f"{base}/v2.0",
                    "token_endpoint_auth_methods_supported": [
                        "client_secret_post",
                        "private_key_jwt",
                    ],
                },
            )
        if rest == "oauth2/v2.0/token" and method == "POST":
            with emulator.lock:
                emulator.token_requests += 1
            fault = emulator.take_fault("token")
            if fault is not None:
                answer = self._refuse(
                    fault.status, "temporarily_unavailable", "AADSTS50196", "Throttled."
                )
                if fault.retry_after is not None:
                    answer.headers["Retry-After"] = f"{fault.retry_after:g}"
                return answer
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            return self._token(emulator, tenant, form)
        return Answer(404, {}, {"error": "not_found"})

    def _refuse(self, status: int, error: str, code: str, text: str) -> Answer:
        from tests.harness.graph_emulator import Answer

        return Answer(
            status,
            {},
            {
                "error": error,
                "error_description": f"{code}: {text} Trace ID: 0000 Correlation ID: 0000",
                "error_codes": [int(code[6:])],
            },
        )

    def _token(self, emulator: GraphEmulator, tenant: str, form: dict[str, str]) -> Answer:
        from tests.harness.graph_emulator import Answer

        if tenant != self.tenant:
            return self._refuse(
                400, "invalid_request", "AADSTS90002", f"Tenant '{tenant}' not found."
            )
        if form.get("grant_type") != "client_credentials":
            return self._refuse(400, "unsupported_grant_type", "AADSTS70003", "Unsupported grant.")
        scopes = form.get("scope", "").split()
        if len(scopes) != 1 or scopes[0] not in (GRAPH_SCOPE, IMAP_SCOPE):
            return self._refuse(400, "invalid_scope", "AADSTS1002012", "Scope must be .default.")
        if form.get("client_id") != self.client_id:
            return self._refuse(
                400,
                "unauthorized_client",
                "AADSTS700016",
                "Application not found in the directory.",
            )
        refusal = self._proof(form, f"{emulator.url}/{tenant}/oauth2/v2.0/token")
        if refusal is not None:
            return refusal
        token = emulator.new_token()
        with emulator.lock:
            self.tokens[token] = time.monotonic() + self.lifetime
            self.scopes[token] = scopes[0]
        return Answer(
            200,
            {},
            {
                "token_type": "Bearer",
                "expires_in": self.lifetime,
                "ext_expires_in": self.lifetime,
                "access_token": token,
            },
        )

    def _proof(self, form: dict[str, str], audience: str) -> Answer | None:
        if "client_secret" in form:
            state = self.secrets.get(form["client_secret"])
            if state == "valid":
                return None
            if state == "expired":
                return self._refuse(
                    401,
                    "invalid_client",
                    "AADSTS7000222",
                    f"The provided client secret keys for app '{self.client_id}' are expired.",
                )
            return self._refuse(
                401, "invalid_client", "AADSTS7000215", "Invalid client secret provided."
            )
        assertion = form.get("client_assertion")
        if assertion and self._assertion_ok(assertion, audience):
            return None
        return self._refuse(
            401, "invalid_client", "AADSTS700027", "Client assertion failed signature validation."
        )

    def _assertion_ok(self, assertion: str, audience: str) -> bool:
        try:
            head, payload, signature = assertion.split(".")
            header = json.loads(_b64(head))
            claims = json.loads(_b64(payload))
            thumbprint = _b64(header["x5t"]).hex()
            certificate = self.certificates[thumbprint]
            key = certificate.public_key()
            assert isinstance(key, rsa.RSAPublicKey)
            pad: padding.AsymmetricPadding = (
                padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
                if header.get("alg") == "PS256"
                else padding.PKCS1v15()
            )
            key.verify(_b64(signature), f"{head}.{payload}".encode(), pad, hashes.SHA256())
        except (ValueError, KeyError, AssertionError, InvalidSignature):
            return False
        return bool(
            claims.get("iss") == claims.get("sub") == self.client_id
            and claims.get("aud") == audience
            and float(claims.get("exp", 0)) > time.time()
        )

    def valid(self, token: str, scope: str) -> bool:
        """Whether ``token`` was issued for ``scope`` and has not expired."""
        expiry = self.tokens.get(token)
        return expiry is not None and expiry >= time.monotonic() and self.scopes[token] == scope

    def check_bearer(self, header: str) -> ApiError | None:
        token = header[7:] if header.startswith("Bearer ") else ""
        if not self.valid(token, GRAPH_SCOPE):
            return ApiError(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        return None
