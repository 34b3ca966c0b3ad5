"""``webhook send``: sign a payload file and POST it like GitHub, to a sandbox or a real deployment."""

from __future__ import annotations

from pathlib import Path

from ..context import Context
from ..failures import EXIT_FAILURE, CliError
from ..webhook_delivery import deliver


def send_command(context: Context) -> int:
    args = context.args
    if args.secret_env:
        secret = context.environ.get(args.secret_env, "")
        if not secret:
            raise CliError(f"environment variable {args.secret_env} (--secret-env) is not set or empty")
    else:
        secret = args.secret
        if not secret:
            raise CliError("--secret is empty")
    try:
        body = Path(args.payload).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read --payload {args.payload}: {exc.strerror or exc}") from None
    delivery = deliver(args.url, secret.encode(), body, event=args.event, timeout=args.timeout)
    console = context.console
    console.note(f"delivery {delivery.delivery_id}: {args.event}, {len(body)} bytes")
    console.line(f"HTTP {delivery.status}")
    if delivery.body:
        console.line(delivery.body.rstrip("\n"))
    return 0 if delivery.ok else EXIT_FAILURE
