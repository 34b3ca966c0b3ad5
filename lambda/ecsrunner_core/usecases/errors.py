"""Errors use cases raise among themselves."""

from __future__ import annotations


class PermanentLaunchError(Exception):
    """Retrying cannot help: the runner goes FAILED with this message as its reason.

    ``kind`` is the configuration reason (``labels``, ``image``, ``launch``) the operator must fix;
    the job may stay queued on GitHub with it, visibly.
    """

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def describe_error(exc: BaseException, limit: int = 400) -> str:
    """A one-line, bounded description of an error, safe for records and logs.

    Adapters never put secrets or JIT configs in exception messages.
    """
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not text.startswith(type(exc).__name__):
        text = f"{type(exc).__name__}: {text}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LaunchDeferred(Exception):
    """Out of time in this invocation: release the lease so the next caller continues at once."""
