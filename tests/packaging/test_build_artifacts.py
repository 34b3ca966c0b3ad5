"""scripts/build_artifacts.py: reproducible Lambda and runner build-context zips.

The builds use a throwaway copy of lambda/ (with a stand-in ecsrunner_lambda) and the shared
dependency cache under build/cache, so only the very first run installs wheels. They compile the
bytecode with the runtime Python the import test runs (``ECSRUNNER_RUNTIME_PYTHON``, set for the module).
"""

import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import build_artifacts, runtime_python

ROOT = Path(__file__).resolve().parents[2]
RUNNER_DIR = ROOT / "runner"
# Found as the build finds it ($ECSRUNNER_RUNTIME_PYTHON, PATH, pyenv): no machine path in the code.
_FOUND = runtime_python.locate("python3.13")
RUNTIME_PYTHON = Path(_FOUND.executable if _FOUND is not None else "python3.13")
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
HANDLER = 'def handler(event, context):\n    return {"handled": event}\n'
CACHE_TAG = "cpython-313"

pytestmark = pytest.mark.xdist_group("packaging")


@pytest.fixture(scope="module", autouse=True)
def runtime_python_for_builds() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(build_artifacts.RUNTIME_PYTHON_ENV, str(RUNTIME_PYTHON))
        yield


def copy_lambda_sources(target: Path) -> Path:
    core = ROOT / "lambda" / "ecsrunner_core"
    shutil.copytree(core, target / "ecsrunner_core", ignore=shutil.ignore_patterns("__pycache__"))
    handlers = target / "ecsrunner_lambda"
    handlers.mkdir()
    (handlers / "__init__.py").write_text("")
    (handlers / "control_plane.py").write_text(HANDLER)
    return target


def build(out_dir: Path, lambda_dir: Path, runner_dir: Path = RUNNER_DIR, arch: str = "x86_64") -> int:
    return build_artifacts.main(
        [
            "--runtime", "python3.13", "--arch", arch, "--out-dir", str(out_dir),
            "--lambda-dir", str(lambda_dir), "--runner-dir", str(runner_dir),
        ]
    )  # fmt: skip


@pytest.fixture(scope="module")
def lambda_sources(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_lambda_sources(tmp_path_factory.mktemp("lambda"))


@pytest.fixture(scope="module")
def dist(
    tmp_path_factory: pytest.TempPathFactory, lambda_sources: Path, runtime_python_for_builds: None
) -> Path:
    out_dir = tmp_path_factory.mktemp("dist")
    assert build(out_dir, lambda_sources) == 0
    return out_dir


def requirement_name(requirement: str) -> str:
    return build_artifacts.canonical_name(re.split(r"[\[=]", requirement, maxsplit=1)[0])


def entries(archive: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(archive) as opened:
        return opened.infolist()


def names(archive: Path) -> list[str]:
    return [entry.filename for entry in entries(archive)]


def test_rebuilding_from_touched_sources_gives_byte_identical_artefacts(
    dist: Path, lambda_sources: Path, tmp_path: Path
) -> None:
    lambda_copy = shutil.copytree(lambda_sources, tmp_path / "lambda")
    runner_copy = shutil.copytree(RUNNER_DIR, tmp_path / "runner")
    for path in [*lambda_copy.rglob("*"), *runner_copy.rglob("*")]:
        os.utime(path, (1_900_000_000, 1_900_000_000))
    (lambda_copy / "ecsrunner_core" / "__init__.py").chmod(0o600)
    (runner_copy / "Dockerfile").chmod(0o700)
    (runner_copy / "entrypoint.sh").chmod(0o700)

    assert build(tmp_path / "dist", lambda_copy, runner_copy) == 0

    for artefact in ("lambda.zip", "runner-context.zip", "manifest.json"):
        assert (tmp_path / "dist" / artefact).read_bytes() == (dist / artefact).read_bytes(), artefact


def test_an_unchanged_artefact_is_not_rewritten(dist: Path, lambda_sources: Path) -> None:
    before = (dist / "lambda.zip").stat()

    assert build(dist, lambda_sources) == 0

    after = (dist / "lambda.zip").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_lambda_zip_holds_the_packages_and_the_pinned_dependencies(dist: Path) -> None:
    archive = names(dist / "lambda.zip")

    assert {"ecsrunner_core/__init__.py", "ecsrunner_core/domain/labels.py"} <= set(archive)
    assert "ecsrunner_lambda/control_plane.py" in archive
    for requirement in build_artifacts.lambda_requirements(ROOT / "pyproject.toml"):
        distribution = requirement_name(requirement).replace("-", "_")
        version = requirement.partition("==")[2]
        assert f"{distribution}-{version}.dist-info/METADATA" in archive, requirement
    assert {"jwt/__init__.py", "cryptography/__init__.py", "requests/__init__.py"} <= set(archive)


def test_lambda_zip_leaves_out_the_runtime_sdk_and_nondeterministic_files(dist: Path) -> None:
    archive = names(dist / "lambda.zip")

    assert not [name for name in archive if name.split("/")[0].startswith(("boto3", "botocore"))]
    assert not [name for name in archive if name.startswith("bin/") or name.endswith(".dist-info/RECORD")]
    assert not [name for name in archive if "/tests/" in name]


def cached_name(source: str, tag: str = CACHE_TAG) -> str:
    directory, file = posixpath.split(source)
    return posixpath.join(directory, "__pycache__", f"{file.removesuffix('.py')}.{tag}.pyc")


def test_lambda_zip_carries_runtime_bytecode_for_every_module_and_no_other(dist: Path) -> None:
    archive = names(dist / "lambda.zip")
    sources = [name for name in archive if name.endswith(".py")]
    cached = [name for name in archive if "__pycache__" in name and not name.endswith("/")]

    assert {"ecsrunner_core/__init__.py", "jwt/__init__.py", "requests/__init__.py"} <= set(sources)
    assert sorted(cached) == sorted(cached_name(source) for source in sources)
    assert json.loads((dist / "manifest.json").read_text())["lambda.zip"]["bytecode"] == CACHE_TAG
    with zipfile.ZipFile(dist / "lambda.zip") as opened:
        headers = {opened.read(name)[:8] for name in cached}
    # One magic number (the runtime's), and PEP 552 flags 0b01: hash-based, source not checked, so
    # no source mtime is in the files and the runtime never recompiles what it finds in /var/task.
    assert len(headers) == 1
    assert int.from_bytes(headers.pop()[4:8], "little") == 0b01


def test_the_runtime_python_loads_the_shipped_bytecode(dist: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(dist / "lambda.zip") as archive:
        archive.extractall(tmp_path / "task")
    # Imported from the source, the handler would now fail: it runs, so the .pyc was used.
    (tmp_path / "task" / "ecsrunner_lambda" / "control_plane.py").write_text("raise ImportError('source')\n")
    check = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from ecsrunner_lambda import control_plane; import ecsrunner_core.domain.labels as labels; "
        "print(control_plane.handler(1, None), labels.__cached__.startswith(sys.argv[1]))"
    )

    result = subprocess.run(
        [str(RUNTIME_PYTHON), "-S", "-E", "-B", "-c", check, str(tmp_path / "task")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["{'handled':", "1}", "True"]


def test_without_the_runtime_python_the_zip_has_no_bytecode_and_is_still_reproducible(
    lambda_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(build_artifacts, "find_runtime_python", lambda runtime: None)

    assert build(tmp_path / "one", lambda_sources) == 0
    assert build(tmp_path / "two", lambda_sources) == 0

    notes = [line for line in capsys.readouterr().err.splitlines() if "note:" in line]
    assert len(notes) == 2 and "without .pyc" in notes[0]
    archive = names(tmp_path / "one" / "lambda.zip")
    assert not [name for name in archive if "__pycache__" in name or name.endswith(".pyc")]
    assert (tmp_path / "one" / "lambda.zip").read_bytes() == (tmp_path / "two" / "lambda.zip").read_bytes()
    assert json.loads((tmp_path / "one" / "manifest.json").read_text())["lambda.zip"]["bytecode"] is None


def test_a_runtime_python_override_of_another_version_is_refused(
    lambda_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(build_artifacts.RUNTIME_PYTHON_ENV, os.devnull)

    assert build(tmp_path, lambda_sources) == 1

    assert f"{build_artifacts.RUNTIME_PYTHON_ENV}={os.devnull} is not" in capsys.readouterr().err


def test_a_module_of_ours_that_the_runtime_cannot_compile_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_dir = copy_lambda_sources(tmp_path / "lambda")
    (lambda_dir / "ecsrunner_core" / "broken.py").write_text("def broken(:\n")

    assert build(tmp_path / "dist", lambda_dir) == 1

    assert "ecsrunner_core/broken.py: not valid Python" in capsys.readouterr().err


@pytest.mark.parametrize("artefact", ["lambda.zip", "runner-context.zip"])
def test_zip_entries_are_sorted_dated_1980_with_fixed_modes(dist: Path, artefact: str) -> None:
    infos = entries(dist / artefact)

    assert [info.filename for info in infos] == sorted(info.filename for info in infos)
    assert {info.date_time for info in infos} == {ZIP_DATE}
    for info in infos:
        mode = info.external_attr >> 16
        if info.is_dir():
            assert mode == 0o040755, info.filename
        else:
            executable = artefact == "runner-context.zip" and info.filename.endswith(".sh")
            assert mode == (0o100755 if executable else 0o100644), info.filename
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_runner_context_is_the_runner_directory_without_its_docs(dist: Path) -> None:
    expected = {path.name for path in RUNNER_DIR.iterdir() if path.is_file() and path.suffix != ".md"}

    assert set(names(dist / "runner-context.zip")) == expected
    assert {"Dockerfile", "buildspec.yml", "entrypoint.sh"} <= expected


def test_manifest_describes_both_artefacts(dist: Path) -> None:
    manifest = json.loads((dist / "manifest.json").read_text())

    assert manifest["lambda.zip"]["runtime"] == "python3.13"
    assert manifest["lambda.zip"]["arch"] == "x86_64"
    for artefact in ("lambda.zip", "runner-context.zip"):
        data = (dist / artefact).read_bytes()
        assert manifest[artefact]["size"] == len(data)
        assert manifest[artefact]["sha256"] == hashlib.sha256(data).hexdigest()


IMPORT_CHECK = """
import importlib.util, json, sys
root = sys.argv[1]
sys.path.insert(0, root)
import ecsrunner_core.domain.labels, ecsrunner_core.domain.image_ref
import aws_lambda_powertools, cryptography, jwt, requests
from cryptography.hazmat.primitives.asymmetric import rsa
from ecsrunner_lambda import control_plane
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
claims = jwt.decode(jwt.encode({"iss": "42"}, key, algorithm="RS256"), key.public_key(), algorithms=["RS256"])
modules = [ecsrunner_core, aws_lambda_powertools, cryptography, jwt, requests, control_plane]
print(json.dumps({
    "claims": claims,
    "handled": control_plane.handler({"ping": 1}, None),
    "outside_zip": [m.__name__ for m in modules if not m.__file__.startswith(root)],
    "boto3_bundled": importlib.util.find_spec("boto3") is not None,
    "version": list(sys.version_info[:2]),
}))
"""


def test_the_zip_imports_and_signs_under_the_runtime_python(dist: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(dist / "lambda.zip") as archive:
        archive.extractall(tmp_path / "task")

    result = subprocess.run(
        [str(RUNTIME_PYTHON), "-S", "-E", "-c", IMPORT_CHECK, str(tmp_path / "task")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report == {
        "claims": {"iss": "42"},
        "handled": {"handled": {"ping": 1}},
        "outside_zip": [],
        "boto3_bundled": False,
        "version": [3, 13],
    }


def test_arm64_build_bundles_aarch64_wheels(lambda_sources: Path, tmp_path: Path) -> None:
    assert build(tmp_path, lambda_sources, arch="arm64") == 0

    archive = names(tmp_path / "lambda.zip")
    native = [name for name in archive if name.endswith(".so")]
    assert native
    assert all("x86_64" not in name for name in native)
    assert any("aarch64" in name for name in native)
    assert json.loads((tmp_path / "manifest.json").read_text())["lambda.zip"]["arch"] == "arm64"


def test_a_second_build_reuses_the_cached_dependencies(
    dist: Path, lambda_sources: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_pip(args: object) -> None:
        raise AssertionError(f"pip ran although the install is cached: {args}")

    monkeypatch.setattr(build_artifacts, "run_pip", no_pip)

    assert build(tmp_path, lambda_sources) == 0
    assert (tmp_path / "lambda.zip").read_bytes() == (dist / "lambda.zip").read_bytes()


def test_a_missing_handler_package_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lambda_dir = copy_lambda_sources(tmp_path / "lambda")
    shutil.rmtree(lambda_dir / "ecsrunner_lambda")

    assert build(tmp_path / "dist", lambda_dir) == 1

    assert "ecsrunner_lambda is missing" in capsys.readouterr().err
    assert not (tmp_path / "dist").exists()


@pytest.mark.parametrize("runtime", ["python2.7", "nodejs20.x"])
def test_an_unsupported_runtime_is_refused(
    lambda_sources: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], runtime: str
) -> None:
    args = ["--runtime", runtime, "--out-dir", str(tmp_path), "--lambda-dir", str(lambda_sources)]

    code = build_artifacts.main(args)

    assert code == 1
    assert runtime in capsys.readouterr().err


def test_requirements_come_from_pyproject_without_the_runtime_sdk() -> None:
    requirements = build_artifacts.lambda_requirements(ROOT / "pyproject.toml")

    assert {requirement_name(requirement) for requirement in requirements} == {
        "requests",
        "pyjwt",
        "aws-lambda-powertools",
    }
    assert "PyJWT[crypto]" in {requirement.split("==")[0] for requirement in requirements}


def test_an_unpinned_dependency_is_refused(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\ndependencies = ["boto3==1.0", "requests>=2"]\n')

    with pytest.raises(build_artifacts.BuildError, match="requests>=2"):
        build_artifacts.lambda_requirements(pyproject)
