"""Build the deployment artefacts of DESIGN.md, byte-identical for the same inputs.

* ``dist/lambda.zip``: ``ecsrunner_core``, ``ecsrunner_lambda`` and the Lambda's dependencies, i.e.
  ``[project].dependencies`` of pyproject.toml minus what the Lambda runtime provides (boto3,
  botocore), installed as binary wheels for the target runtime and architecture.
* ``dist/runner-context.zip``: ``runner/``, the CodeBuild source of the runner image.
* ``dist/manifest.json``: sha256, size, runtime and architecture of each artefact, and the bytecode
  the Lambda zip carries.
* with ``--release`` (``make dist``), also ``dist/ecsrunner-<version>/``: the same two zips under
  versioned names, ``ecsrunner-<version>-lambda-<runtime>-<arch>.zip`` and
  ``ecsrunner-<version>-runner-context.zip``, their ``manifest.json`` and ``SHA256SUMS``. These are
  what a configuration using the module from a git or registry source passes as ``lambda_zip_path``
  and ``runner_context_zip_path`` (such a source has no ``dist/``). ``<version>`` is
  ``[project].version`` of pyproject.toml.

The Lambda zip carries bytecode compiled ahead of time by the target runtime's Python (``python3.13``:
``$ECSRUNNER_RUNTIME_PYTHON``, else ``python3.13`` on PATH, else under ``pyenv root``), because
``/var/task`` is read-only and a cold start would otherwise compile every module it imports. The
``.pyc`` files are unchecked-hash based (no source mtimes in them), optimization level 0, compiled in one
process with a fixed hash seed, in sorted order and with the archive path as their file name, so they
are byte-identical from build to build. Without that interpreter the zip is built without bytecode (a
note says so), still reproducibly.

Transitive dependencies are constrained to the versions installed in the interpreter running this
script (the project venv under ``make build``), so the zip ships what the tests ran against. The
dependency install is cached under ``build/cache`` keyed by everything that can change it.
Zip entries are sorted, dated 1980-01-01 00:00:00, 0644 (0755 for directories and ``*.sh`` in the
runner context) and deflated at a fixed level.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python scripts/build_artifacts.py`
    sys.path.insert(0, str(ROOT))

from scripts.runtime_python import OVERRIDE_ENV, Interpreter, RuntimeNotFound, locate, runtime_version  # noqa: E402

LAMBDA_PACKAGES = ("ecsrunner_core", "ecsrunner_lambda")
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})
LAMBDA_ARCHES = {"x86_64": "x86_64", "arm64": "aarch64"}
# Python 3.12+ Lambda runtimes run on Amazon Linux 2023 (glibc 2.34); older ones on glibc 2.26.
AL2023_MANYLINUX = ("manylinux2014", "manylinux_2_28", "manylinux_2_34")
AL2_MANYLINUX = ("manylinux2014",)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_COMPRESSLEVEL = 6
FILE_MODE = 0o644
EXECUTABLE_MODE = 0o755
DIRECTORY_MODE = 0o755
EXCLUDED_NAMES = frozenset({"__pycache__", ".DS_Store"})
EXCLUDED_DEPENDENCY_TOP_LEVEL = frozenset({"bin"})
RUNTIME_PYTHON_ENV = OVERRIDE_ENV
COMPILE_TIMEOUT_SECONDS = 600
# Run by the runtime's Python: compile the sources listed on stdin as [[path, archive name], ...] into
# the directory argv[1], each to the archive name's PEP 3147 cache path; prints the archive names of the
# .pyc files written and of the sources that did not compile.
COMPILE_SCRIPT = """
import importlib.util, json, os, py_compile, sys
out, written, failed = sys.argv[1], [], []
for source, name in json.load(sys.stdin):
    cached = importlib.util.cache_from_source(name)
    try:
        py_compile.compile(source, cfile=os.path.join(out, cached), dfile=name, doraise=True, optimize=0,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError:
        failed.append(name)
    else:
        written.append(cached)
json.dump({"written": written, "failed": failed}, sys.stdout)
"""
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class BuildError(Exception):
    """A build input is missing or invalid; the message says which and what to do."""


@dataclass(frozen=True)
class Artefact:
    path: Path
    sha256: str
    size: int
    runtime: str | None
    arch: str | None
    bytecode: str | None = None  # the cache tag of the .pyc files inside, e.g. cpython-313


def canonical_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lambda_requirements(pyproject: Path) -> list[str]:
    """The pinned ``[project].dependencies`` the Lambda runtime does not provide."""
    dependencies = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    requirements = []
    for requirement in dependencies:
        match = REQUIREMENT_NAME.match(requirement)
        if not match:
            raise BuildError(f"{pyproject}: cannot parse dependency {requirement!r}")
        if canonical_name(match.group(1)) in RUNTIME_PROVIDED:
            continue
        if "==" not in requirement:
            raise BuildError(f"{pyproject}: pin {requirement!r} with == so that the zip is reproducible")
        requirements.append(requirement.strip())
    return sorted(requirements, key=str.lower)


def environment_constraints() -> list[str]:
    """``name==version`` for every distribution installed in this interpreter's environment."""
    pins = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"]
        if name and canonical_name(name) not in RUNTIME_PROVIDED and canonical_name(name) != "ecsrunner":
            pins[canonical_name(name)] = distribution.version
    return [f"{name}=={version}" for name, version in sorted(pins.items())]


def pip_platform_args(runtime: str, arch: str) -> list[str]:
    minor = runtime_minor(runtime)
    if arch not in LAMBDA_ARCHES:
        raise BuildError(f"unsupported arch {arch!r}: expected one of {', '.join(LAMBDA_ARCHES)}")
    families = AL2023_MANYLINUX if minor >= 12 else AL2_MANYLINUX
    args = ["--implementation", "cp", "--python-version", f"3.{minor}", "--only-binary=:all:"]
    for family in families:
        args += ["--platform", f"{family}_{LAMBDA_ARCHES[arch]}"]
    return args


def run_pip(args: Sequence[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BuildError(f"pip install failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def install_dependencies(
    requirements: Sequence[str], constraints: Sequence[str], runtime: str, arch: str, cache_dir: Path
) -> Path:
    """Install (or reuse) the dependencies; returns the directory holding them."""
    platform_args = pip_platform_args(runtime, arch)
    key_material = json.dumps([list(requirements), list(constraints), platform_args], sort_keys=True)
    key = hashlib.sha256(key_material.encode()).hexdigest()[:20]
    installed = cache_dir / f"lambda-deps-{runtime}-{arch}-{key}"
    if (installed / ".complete").is_file():
        return installed / "site"

    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{installed.name}.", dir=cache_dir))
    try:
        constraints_file = staging / "constraints.txt"
        constraints_file.write_text("".join(f"{line}\n" for line in constraints), encoding="utf-8")
        print(f"installing Lambda dependencies for {runtime}/{arch} into {installed}", flush=True)
        run_pip(
            [
                "install", "--quiet", "--disable-pip-version-check", "--no-compile",
                "--target", str(staging / "site"), *platform_args,
                "--constraint", str(constraints_file), *requirements,
            ]
        )  # fmt: skip
        (staging / ".complete").write_text(key_material, encoding="utf-8")
        try:
            staging.rename(installed)
        except OSError:
            if not (installed / ".complete").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return installed / "site"


def runtime_minor(runtime: str) -> int:
    try:
        major, minor = runtime_version(runtime)
    except RuntimeNotFound as exc:
        raise BuildError(str(exc)) from None
    if major != 3:
        raise BuildError(f"unsupported runtime {runtime!r}: expected python3.X")
    return minor


def find_runtime_python(runtime: str) -> Interpreter | None:
    """The CPython of the Lambda runtime (see scripts/runtime_python.py), or None."""
    runtime_minor(runtime)  # refuse what is not a python3.X runtime before looking for one
    try:
        return locate(runtime)
    except RuntimeNotFound as exc:
        raise BuildError(str(exc)) from None


def compile_bytecode(entries: Mapping[str, Path], python: Interpreter, out_dir: Path) -> dict[str, Path]:
    """Compile every ``.py`` entry with the runtime's Python into ``out_dir``; returns the ``.pyc``
    entries. A dependency file that does not compile ships as source only (as pip installs it); one of
    ours is an error."""
    sources = [[str(path), name] for name, path in sorted(entries.items()) if name.endswith(".py")]
    environment = {"PATH": os.environ.get("PATH", ""), "PYTHONHASHSEED": "0"}  # set/frozenset order
    result = subprocess.run(
        [python.executable, "-S", "-c", COMPILE_SCRIPT, str(out_dir)],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        env=environment,
        timeout=COMPILE_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"compiling bytecode with {python.executable} failed:\n{result.stderr}")
    report = json.loads(result.stdout)
    ours = [name for name in report["failed"] if name.split("/")[0] in LAMBDA_PACKAGES]
    if ours:
        raise BuildError(f"{', '.join(ours)}: not valid Python for {python.cache_tag}")
    return {name: out_dir / name for name in report["written"]}


def tree_files(root: Path, prefix: str = "") -> dict[str, Path]:
    """Regular files under ``root`` keyed by their archive name, without caches and bytecode."""
    files = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if EXCLUDED_NAMES.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_symlink():
            raise BuildError(f"{path}: symbolic links are not packaged, replace it with a file")
        if path.is_file():
            files[prefix + relative.as_posix()] = path
    return files


def is_excluded_dependency_file(name: str) -> bool:
    """Console scripts (useless in Lambda), test suites, and RECORD, which hashes those scripts
    whose first line is this machine's interpreter path."""
    parts = name.split("/")
    return (
        parts[0] in EXCLUDED_DEPENDENCY_TOP_LEVEL
        or (parts[0].endswith(".dist-info") and parts[-1] == "RECORD")
        or "tests" in parts[:-1]
    )


def lambda_package_entries(lambda_dir: Path) -> dict[str, Path]:
    entries = {}
    for package in LAMBDA_PACKAGES:
        package_dir = lambda_dir / package
        if not (package_dir / "__init__.py").is_file():
            needed = " and ".join(LAMBDA_PACKAGES)
            raise BuildError(f"{package_dir} is missing (no __init__.py): the Lambda zip needs {needed}")
        entries.update(tree_files(package_dir, f"{package}/"))
    return entries


def with_dependencies(package_entries: Mapping[str, Path], dependencies_dir: Path) -> dict[str, Path]:
    entries = dict(package_entries)
    for name, path in tree_files(dependencies_dir).items():
        if is_excluded_dependency_file(name):
            continue
        if name in entries or name.split("/")[0] in LAMBDA_PACKAGES:
            raise BuildError(f"dependency file {name} collides with the ecsrunner packages")
        entries[name] = path
    return entries


def runner_entries(runner_dir: Path) -> dict[str, Path]:
    """The build context: everything in runner/ but its documentation."""
    entries = {name: path for name, path in tree_files(runner_dir).items() if not name.endswith(".md")}
    for required in ("Dockerfile", "buildspec.yml"):
        if required not in entries:
            raise BuildError(f"{runner_dir / required} is missing: the runner build context needs it")
    return entries


def parent_directories(names: Iterable[str]) -> set[str]:
    directories: set[str] = set()
    for name in names:
        parts = name.split("/")[:-1]
        directories.update("/".join(parts[: depth + 1]) + "/" for depth in range(len(parts)))
    return directories


def zip_bytes(entries: Mapping[str, Path], file_mode: Callable[[str], int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(set(entries) | parent_directories(entries)):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.create_system = 3
            if name.endswith("/"):
                info.external_attr = ((0o040000 | DIRECTORY_MODE) << 16) | 0x10
                archive.writestr(info, b"")
            else:
                info.external_attr = (0o100000 | file_mode(name)) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, entries[name].read_bytes(), compresslevel=ZIP_COMPRESSLEVEL)
    return buffer.getvalue()


def lambda_file_mode(name: str) -> int:
    return FILE_MODE


def runner_file_mode(name: str) -> int:
    return EXECUTABLE_MODE if name.endswith(".sh") else FILE_MODE


def write_if_changed(path: Path, data: bytes) -> None:
    if path.is_file() and path.read_bytes() == data:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_bytes(data)
    staging.replace(path)


def write_artefact(
    path: Path, data: bytes, runtime: str | None, arch: str | None, bytecode: str | None = None
) -> Artefact:
    write_if_changed(path, data)
    return Artefact(path, hashlib.sha256(data).hexdigest(), len(data), runtime, arch, bytecode)


def manifest_entries(artefacts: Sequence[Artefact], **extra: str) -> dict[str, dict[str, object]]:
    return {
        artefact.path.name: {
            "sha256": artefact.sha256,
            "size": artefact.size,
            "runtime": artefact.runtime,
            "arch": artefact.arch,
            "bytecode": artefact.bytecode,
            **extra,
        }
        for artefact in artefacts
    }


def write_json(path: Path, document: object) -> Path:
    write_if_changed(path, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode())
    return path


def write_manifest(out_dir: Path, artefacts: Sequence[Artefact]) -> Path:
    return write_json(out_dir / "manifest.json", manifest_entries(artefacts))


def project_version(pyproject: Path) -> str:
    version = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.+-]*", str(version)):
        raise BuildError(f"{pyproject}: [project].version {version!r} cannot name release files")
    return str(version)


def release_name(artefact: Artefact, version: str) -> str:
    """``ecsrunner-<version>-lambda-<runtime>-<arch>.zip`` or ``ecsrunner-<version>-<name>``."""
    stem, suffix = artefact.path.stem, artefact.path.suffix
    if artefact.runtime is not None:
        return f"ecsrunner-{version}-{stem}-{artefact.runtime}-{artefact.arch}{suffix}"
    return f"ecsrunner-{version}-{stem}{suffix}"


def write_release(out_dir: Path, artefacts: Sequence[Artefact], version: str) -> Path:
    """Copy the artefacts into ``out_dir/ecsrunner-<version>/`` under versioned names, with their
    manifest (plus the version) and a ``SHA256SUMS`` that ``sha256sum -c`` checks."""
    release = out_dir / f"ecsrunner-{version}"
    copies = []
    for artefact in artefacts:
        path = release / release_name(artefact, version)
        write_if_changed(path, artefact.path.read_bytes())
        copies.append(
            Artefact(path, artefact.sha256, artefact.size, artefact.runtime, artefact.arch, artefact.bytecode)
        )
    write_json(release / "manifest.json", manifest_entries(copies, version=version))
    sums = "".join(f"{copy.sha256}  {copy.path.name}\n" for copy in sorted(copies, key=lambda c: c.path.name))
    write_if_changed(release / "SHA256SUMS", sums.encode())
    return release


def build(
    *,
    runtime: str,
    arch: str,
    out_dir: Path,
    cache_dir: Path,
    lambda_dir: Path,
    runner_dir: Path,
    pyproject: Path,
) -> list[Artefact]:
    requirements = lambda_requirements(pyproject)
    packages = lambda_package_entries(lambda_dir)
    runner_zip = zip_bytes(runner_entries(runner_dir), runner_file_mode)
    python = find_runtime_python(runtime)
    dependencies_dir = install_dependencies(requirements, environment_constraints(), runtime, arch, cache_dir)
    entries = with_dependencies(packages, dependencies_dir)
    with tempfile.TemporaryDirectory(prefix="lambda-bytecode-") as scratch:
        if python is not None:
            entries.update(compile_bytecode(entries, python, Path(scratch)))
        else:
            print(
                f"build_artifacts: note: no {runtime} interpreter found (set {RUNTIME_PYTHON_ENV}, or put"
                f" it on PATH or under pyenv): lambda.zip ships without .pyc, so cold starts compile sources",
                file=sys.stderr,
            )
        lambda_zip = zip_bytes(entries, lambda_file_mode)
    bytecode = python.cache_tag if python is not None else None
    artefacts = [
        write_artefact(out_dir / "lambda.zip", lambda_zip, runtime, arch, bytecode),
        write_artefact(out_dir / "runner-context.zip", runner_zip, None, None),
    ]
    write_manifest(out_dir, artefacts)
    return artefacts


def display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtime", default="python3.13", help="Lambda runtime (default python3.13)")
    parser.add_argument("--arch", default="x86_64", choices=sorted(LAMBDA_ARCHES), help="Lambda architecture")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "dist")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "build" / "cache")
    parser.add_argument("--lambda-dir", type=Path, default=ROOT / "lambda", help="holds the two packages")
    parser.add_argument("--runner-dir", type=Path, default=ROOT / "runner")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument(
        "--release",
        action="store_true",
        help="also write the versioned release artefacts into OUT_DIR/ecsrunner-<version>/",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        artefacts = build(
            runtime=args.runtime,
            arch=args.arch,
            out_dir=args.out_dir,
            cache_dir=args.cache_dir,
            lambda_dir=args.lambda_dir,
            runner_dir=args.runner_dir,
            pyproject=args.pyproject,
        )
        release = (
            write_release(args.out_dir, artefacts, project_version(args.pyproject)) if args.release else None
        )
    except BuildError as error:
        print(f"build_artifacts: error: {error}", file=sys.stderr)
        return 1
    for artefact in artefacts:
        details = [artefact.runtime, artefact.arch] if artefact.runtime else []
        details += [f".pyc {artefact.bytecode}"] if artefact.bytecode else []
        target = f" ({', '.join(str(d) for d in details)})" if details else ""
        print(f"{display_path(artefact.path)}  sha256={artefact.sha256}  size={artefact.size} bytes{target}")
    if release is not None:
        files = ", ".join(sorted(path.name for path in release.iterdir()))
        print(f"release: {display_path(release)}/ ({files})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
