"""Credentials for the GitHub API: a personal access token, or a GitHub App installation.

The secret is JSON (docs/DESIGN.md): ``{"type": "pat", "token": "..."}`` or
``{"type": "app", "app_id": 123, "installation_id": 456, "private_key": "-----BEGIN ..."}``.

Secrets never appear in reprs or exception messages. PyJWT and cryptography are imported only
when an App signs its first JWT (Lambda cold start).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from ...ports import GitHubError

JWT_BACKDATE_SECONDS = 60
JWT_LIFETIME_SECONDS = 540
TOKEN_REFRESH_MARGIN_SECONDS = 300

AppRequest = Callable[[str, str, str], Any]
"""``(method, path, app_jwt) -> JSON body``: a call authenticated as the App itself."""


class CredentialsError(ValueError):
    """The credentials secret is malformed; the message names the field, never its value."""


class GitHubAuth(Protocol):
    def authorization(self, app_request: AppRequest, scope_path: str) -> str:
        """The ``Authorization`` header value for calls in ``scope_path`` (``repos/o/r``, ``orgs/o``)."""
        ...

    def invalidate(self) -> bool:
        """Forget cached tokens after a 401; ``True`` if a retry could use fresh ones."""
        ...


class PatAuth:
    def __init__(self, token: str) -> None:
        if not token or not token.strip():
            raise CredentialsError("token is empty")
        self._token = token.strip()

    def authorization(self, app_request: AppRequest, scope_path: str) -> str:
        return f"Bearer {self._token}"

    def invalidate(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "PatAuth(token=<redacted>)"


class AppAuth:
    """GitHub App auth: an RS256 JWT buys an installation token, cached until 5 minutes before it
    expires. The installation is looked up for the scope when not configured.

    ``clock`` is wall-clock epoch seconds (JWT claims and token expiry are wall-clock times).
    """

    def __init__(
        self,
        app_id: int,
        private_key: str,
        installation_id: int | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_id = app_id
        self.installation_id = installation_id
        self._private_key_pem = private_key
        self._signing_key: Any = None
        self._clock = clock
        self._token: str | None = None
        self._token_refresh_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AppAuth(app_id={self.app_id}, installation_id={self.installation_id})"

    def authorization(self, app_request: AppRequest, scope_path: str) -> str:
        with self._lock:
            if self._token is None or self._clock() >= self._token_refresh_at:
                self._mint_token(app_request, scope_path)
            return f"Bearer {self._token}"

    def invalidate(self) -> bool:
        with self._lock:
            self._token = None
        return True

    def app_jwt(self) -> str:
        """A fresh JWT: ``iat`` backdated 60 s for clock drift, ``exp`` 9 minutes ahead (GitHub
        allows at most 10), ``iss`` the App ID as a string, a random ``jti``."""
        import jwt  # lazy: only App auth pays for PyJWT (Lambda cold start)

        now = int(self._clock())
        claims = {
            "iat": now - JWT_BACKDATE_SECONDS,
            "exp": now + JWT_LIFETIME_SECONDS,
            "iss": str(self.app_id),
            "jti": secrets.token_hex(16),
        }
        return jwt.encode(claims, self._key(), algorithm="RS256")

    def _key(self) -> Any:
        if self._signing_key is None:
            # lazy, like PyJWT above
            from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
            from cryptography.hazmat.primitives.serialization import load_pem_private_key

            try:
                key = load_pem_private_key(self._private_key_pem.encode(), password=None)
            except (ValueError, TypeError):
                raise CredentialsError("private_key is not a PEM private key") from None
            if not isinstance(key, RSAPrivateKey):
                raise CredentialsError("private_key is not an RSA key (GitHub Apps sign with RS256)")
            self._signing_key = key
            self._private_key_pem = ""  # the key object is all we need from now on
        return self._signing_key

    def _mint_token(self, app_request: AppRequest, scope_path: str) -> None:
        if self.installation_id is None:
            installation = app_request("GET", f"{scope_path}/installation", self.app_jwt())
            try:
                self.installation_id = int(installation["id"])
            except (KeyError, TypeError, ValueError):
                raise GitHubError("GitHub returned an installation without an id") from None
        mint_path = f"app/installations/{self.installation_id}/access_tokens"
        minted = app_request("POST", mint_path, self.app_jwt())
        try:
            token = minted["token"]
            expires_at = datetime.fromisoformat(str(minted["expires_at"]).replace("Z", "+00:00"))
        except (KeyError, TypeError, ValueError):
            raise GitHubError("GitHub returned an installation token without token or expires_at") from None
        if not isinstance(token, str) or not token or expires_at.tzinfo is None:
            raise GitHubError("GitHub returned a malformed installation token")
        self._token = token
        self._token_refresh_at = expires_at.timestamp() - TOKEN_REFRESH_MARGIN_SECONDS


def credentials_from_secret(json_text: str, *, clock: Callable[[], float] = time.time) -> PatAuth | AppAuth:
    """Parse the credentials secret. Errors name the missing or malformed field only."""
    try:
        data = json.loads(json_text)
    except (TypeError, ValueError):
        raise CredentialsError("GitHub credentials secret is not valid JSON") from None
    if not isinstance(data, dict):
        raise CredentialsError("GitHub credentials secret must be a JSON object")
    kind = data.get("type")
    if kind == "pat":
        return PatAuth(_text(data, "token"))
    if kind == "app":
        installation = data.get("installation_id")
        return AppAuth(
            app_id=_positive_int(data, "app_id"),
            private_key=_pem(_text(data, "private_key")),
            installation_id=None if installation is None else _positive_int(data, "installation_id"),
            clock=clock,
        )
    if kind is None:
        raise CredentialsError('GitHub credentials secret: missing field "type" ("pat" or "app")')
    raise CredentialsError('GitHub credentials secret: field "type" must be "pat" or "app"')


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        raise CredentialsError(f'GitHub credentials secret: missing field "{name}"')
    if not isinstance(value, str) or not value.strip():
        raise CredentialsError(f'GitHub credentials secret: field "{name}" must be a non-empty string')
    return value


def _positive_int(data: dict[str, Any], name: str) -> int:
    value = data.get(name)
    if value is None:
        raise CredentialsError(f'GitHub credentials secret: missing field "{name}"')
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise CredentialsError(f'GitHub credentials secret: field "{name}" must be a positive integer')
    return value


def _pem(key: str) -> str:
    # A PEM pasted into a JSON editor often arrives with literal "\n" instead of newlines.
    if "\n" not in key and "\\n" in key:
        key = key.replace("\\n", "\n")
    if "-----BEGIN" not in key:
        raise CredentialsError('GitHub credentials secret: field "private_key" is not a PEM key')
    return key
