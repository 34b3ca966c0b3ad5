"""GitHub REST adapter: :class:`GitHubClient` implements :class:`ecsrunner_core.ports.GitHubPort`.

Importing this package is cheap: PyJWT and cryptography load only when GitHub App auth signs its
first JWT.
"""

from .auth import AppAuth, CredentialsError, GitHubAuth, PatAuth, credentials_from_secret
from .client import GitHubClient
from .retry import RetryPolicy

__all__ = [
    "AppAuth",
    "CredentialsError",
    "GitHubAuth",
    "GitHubClient",
    "PatAuth",
    "RetryPolicy",
    "credentials_from_secret",
]
