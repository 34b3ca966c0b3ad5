"""The newest released CHANGELOG section, the package version and the version the code reports agree."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from ecsrunner_core import __version__

ROOT = Path(__file__).resolve().parent.parent


def released_versions() -> list[str]:
    headings = re.findall(r"^## \[([^\]]+)\]", (ROOT / "CHANGELOG.md").read_text(encoding="utf-8"), re.M)
    assert headings and headings[0] == "Unreleased", headings
    return headings[1:]


def test_the_package_version_is_the_newest_release_in_the_changelog() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    versions = released_versions()
    assert versions, "CHANGELOG.md has no released version"
    assert project["version"] == versions[0] == __version__


def test_every_release_heading_has_a_date() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    for version in released_versions():
        assert re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, re.M), version
