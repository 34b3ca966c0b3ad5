"""Handlers import fast: importing them creates no AWS client and reads no setting or secret.

Checked in a fresh interpreter, so that nothing imported by other tests hides an import-time client.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, os, sys
import botocore.session

created = []
original = botocore.session.Session.create_client

def record(self, service_name, *args, **kwargs):
    created.append(service_name)
    return original(self, service_name, *args, **kwargs)

botocore.session.Session.create_client = record
seen = []


class Environ(dict):
    def get(self, key, default=None):
        seen.append(key)
        return super().get(key, default)

    def __getitem__(self, key):
        seen.append(key)
        return super().__getitem__(key)


os.environ = Environ(os.environ)

import ecsrunner_lambda.control_plane
import ecsrunner_lambda.janitor

print(json.dumps({"clients": created, "env": sorted(set(seen))}))
"""


def test_importing_the_handlers_creates_no_aws_client_and_reads_no_deployment_setting() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PYTHONPATH": f"{ROOT / 'lambda'}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["clients"] == []
    # Only Powertools' own knobs are read at import; the deployment's settings wait for the first call.
    assert not {"RUNNER_TABLE", "ECSRUNNER_NAME", "WEBHOOK_SECRET_ARN"} & set(found["env"])
