"""``main(argv) -> int``: parse, run one command, turn known failures into one line and an exit code."""

from __future__ import annotations

import logging
import os
import sys

from .console import Console
from .context import Context
from .failures import EXIT_FAILURE, EXIT_USAGE, describe_failure
from .parser import build_parser

CORE_LOGGER = "ecsrunner"


class _WarningLines(logging.Handler):
    """Core warnings (e.g. an incomplete cleanup) as ``warning: ...`` lines on the console."""

    def __init__(self, console: Console) -> None:
        super().__init__(logging.WARNING)
        self._console = console

    def emit(self, record: logging.LogRecord) -> None:
        self._console.note(f"warning: {record.getMessage()}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, usage errors 2
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler = getattr(args, "handler", None)
    if handler is None:
        (getattr(args, "command_parser", None) or parser).print_help(sys.stderr)
        return EXIT_USAGE
    console = Console(sys.stdout, sys.stderr, os.environ, sys.stdin)
    context = Context(args, console, os.environ)
    logger = logging.getLogger(CORE_LOGGER)
    warnings = _WarningLines(console)
    logger.addHandler(warnings)
    try:
        result: int = handler(context)
    except KeyboardInterrupt:
        console.error("interrupted")
        return 130
    except BrokenPipeError:  # `... | head`: the reader left; stop quietly
        _silence_stdout()
        return EXIT_FAILURE
    except Exception as exc:
        message = describe_failure(exc, context.where())
        if message is None:
            if os.environ.get("ECSRUNNER_DEBUG"):
                raise
            message = f"unexpected {type(exc).__name__}: {exc} (set ECSRUNNER_DEBUG=1 for the traceback)"
        console.error(message)
        return getattr(exc, "exit_code", EXIT_FAILURE)
    finally:
        logger.removeHandler(warnings)
    return result


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # not a real file (tests capture output): nothing to flush at exit
