"""Entry point of ``python -m ecsrunner`` and of the ``ecsrunner`` console script."""

from __future__ import annotations

import sys

from .app import main


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
