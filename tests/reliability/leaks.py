"""Looking for secrets where nobody should find them: logs, records, AWS requests, ECS tasks.

:class:`Secrets` holds every secret a flow handled (the PAT, the webhook secret, each JIT config and
the random secret inside it, an App private key, installation tokens). :class:`Haystack` holds every
text a reader other than the runner could see. A long secret is also looked for in overlapping
24-character pieces, so a truncated or partly quoted secret is found too.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.lifecycle.support import World
from tests.reliability.observe import raw_items

PIECE = 24
JIT_PUT = "s3.PutObject"


@dataclass
class Secrets:
    values: dict[str, str] = field(default_factory=dict)  # what -> secret

    def add(self, what: str, secret: str) -> None:
        if secret:
            self.values[what] = secret

    def add_jit_configs(self, world: World) -> int:
        """Every JIT config the code wrote (the environment files' bodies), and the secret inside."""
        found = 0
        for call in world.recorder.of(JIT_PUT):
            line = bytes(call.params["Body"]).decode()
            config = line.rstrip("\n").partition("=")[2]
            self.add(f"JIT config of {call.params['Key']}", config)
            self.add(f"JIT secret of {call.params['Key']}", json.loads(base64.b64decode(config))["secret"])
            found += 1
        for index, secret in enumerate(world.github.issued_jit_secrets):
            self.add(f"JIT secret {index} issued by GitHub", secret)
        for index, token in enumerate(world.github.minted_tokens):
            self.add(f"installation token {index}", token)
        return found

    def add_pem(self, what: str, pem: str) -> None:
        self.add(what, pem)
        for number, line in enumerate(pem.splitlines()):
            if not line.startswith("-----"):
                self.add(f"{what}, line {number}", line)

    def needles(self) -> Iterable[tuple[str, str]]:
        for what, secret in self.values.items():
            yield what, secret
            if len(secret) > 2 * PIECE:
                for start in range(0, len(secret) - PIECE + 1, PIECE // 2):
                    yield f"{what} [{start}:{start + PIECE}]", secret[start : start + PIECE]


@dataclass
class Haystack:
    texts: dict[str, str] = field(default_factory=dict)  # where -> text

    def add(self, where: str, value: Any) -> None:
        text = value if isinstance(value, str) else json.dumps(value, default=repr, sort_keys=True)
        self.texts[where] = self.texts.get(where, "") + "\n" + text

    def add_log_records(self, records: Iterable[logging.LogRecord]) -> int:
        formatter = logging.Formatter()
        count = 0
        for record in records:
            self.add("log messages", record.getMessage())
            if record.exc_info:
                self.add("log tracebacks", formatter.formatException(record.exc_info))
            self.add("log record fields", {k: v for k, v in record.__dict__.items() if k != "exc_info"})
            count += 1
        return count

    def add_world(self, world: World) -> None:
        """The table, every AWS request the code made (but the JIT object's body) and every task."""
        self.add("DynamoDB items", raw_items(world))
        for call in world.recorder.calls:
            params = dict(call.params)
            if call.name == JIT_PUT:
                params.pop("Body", None)
            self.add(f"AWS request {call.name}", params)
        tasks = world.tasks()
        self.add("DescribeTasks", tasks)
        self.add("metrics", world.metrics.counts)

    def findings(self, secrets: Secrets) -> list[str]:
        return [
            f"{what} in {where}"
            for what, needle in secrets.needles()
            for where, text in self.texts.items()
            if needle in text
        ]
