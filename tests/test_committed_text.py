"""No committed text names a path of the machine it was written on.

Generated documents (docs/BENCHMARKS.md, docs/cli.md, the demo transcript) once carried the build
machine's checkout, virtualenv and interpreter paths. Every text file in ``git ls-files`` is checked
for absolute home, checkout, scratch, pyenv and interpreter paths; paths that belong to the runner
image or to AWS/Linux conventions (``/home/runner/actions-runner``, ``/usr/local/bin``,
``/etc/os-release``, ``/opt/hostedtoolcache``) are not machine paths and do not match.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A path starts where no word character, '.', '-' or '~' precedes its first '/': "https://host/root/x"
# and "_work/" are not matches, "file:///root/x" and "(/work/x)" are.
_START = r"(?<![\w.~-])"
MACHINE_PATHS = {
    "a home directory": re.compile(_START + r"(/root/|/Users/[^/\s]+/|/home/(?!runner\b)[^/\s]+/)"),
    "a checkout or shared work directory": re.compile(_START + r"/work/"),
    "a scratch directory": re.compile(_START + r"/tmp/"),
    "a pyenv interpreter": re.compile(r"\.pyenv/versions/"),
    "a virtualenv by absolute path": re.compile(_START + r"/[^\s`'\"()]*/\.venv/"),
    "an interpreter by absolute path": re.compile(_START + r"/usr/(local/)?bin/python\d"),
}

# (file, the exact text on the line) -> why it is not a path of this machine. Keep it short.
ALLOWED = {
    ("tests/runner/test_buildspec.py", "touch /tmp/pwned"): "a hostile build value the test feeds in",
    ("tests/runner/test_entrypoint.py", "touch /tmp/pwned"): "a hostile JIT value the test feeds in",
    ("tests/terraform/test_docs_and_conventions.py", '"/tmp/" not in text and "/work/" not in text'): (
        "asserts that these are absent"
    ),
    ("bench/run.py", "--out /tmp/b"): "an example scratch directory in the usage text",
}
THIS_FILE = "tests/test_committed_text.py"  # its patterns name what they look for


def committed_text_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return [name for name in listed.split("\0") if name and name != THIS_FILE]


def machine_paths(name: str, text: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for what, pattern in MACHINE_PATHS.items():
            if pattern.search(line) and not any(f == name and allowed in line for f, allowed in ALLOWED):
                found.append(f"{name}:{number}: {what}: {line.strip()[:160]}")
    return found


def read_text(path: Path) -> str | None:
    data = path.read_bytes() if path.is_file() else b""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_no_committed_text_names_a_machine_path() -> None:
    files = committed_text_files()
    assert "README.md" in files and "docs/BENCHMARKS.md" in files
    found = []
    for name in files:
        text = read_text(ROOT / name)
        if text is not None:
            found += machine_paths(name, text)
    assert not found, "paths of the build machine in committed files:\n" + "\n".join(found)


def test_every_allowance_is_still_needed() -> None:
    for (name, allowed), _reason in ALLOWED.items():
        assert allowed in (ROOT / name).read_text(), f"{name} no longer says {allowed!r}: drop the allowance"


@pytest.mark.parametrize(
    "line",
    [
        "  logs: /work/main/build/demo/logs",
        "| Python (benchmarks) | 3.11.7 (/work/main/.venv/bin/python) |",
        "`/root/.pyenv/versions/3.13.0/bin/python3.13 -X importtime`",
        "copied from `/work/shared/fixtures/README.md`",
        "see /home/alice/src/ecsrunner/README.md",
        "/Users/bob/ecsrunner/dist/lambda.zip",
        "moto log: /tmp/pytest-of-root/pytest-3/moto.log",
        "ECSRUNNER_RUNTIME_PYTHON=~/.pyenv/versions/3.13.0/bin/python3.13",
        "interpreter /usr/local/bin/python3.13",
        "venv at /srv/ci/.venv/bin/python",
        "file:///root/x",
    ],
)
def test_machine_paths_are_found(line: str) -> None:
    assert machine_paths("docs/example.md", line)


@pytest.mark.parametrize(
    "line",
    [
        "RUNNER_HOME=/home/runner/actions-runner",
        "installs to /usr/local/bin/lsb_release and reads /etc/os-release",
        "AGENT_TOOLSDIRECTORY=/opt/hostedtoolcache",
        "| Python (benchmarks) | 3.11.7 (.venv/bin/python) |",
        "python3.13 (pyenv) -X importtime",
        "the runner's _work/ directory and build/demo/logs",
        "https://github.com/octo-org/octo-repo/tree/main/work/root/x",
        "#!/usr/bin/env python3",
    ],
)
def test_conventional_paths_are_not_machine_paths(line: str) -> None:
    assert not machine_paths("docs/example.md", line)
