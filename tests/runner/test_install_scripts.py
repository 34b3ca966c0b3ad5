"""runner/install-deps.sh (base family detection, package choice) and runner/install-runner.sh
(architecture mapping, checksum enforcement) without a Docker engine: downloads are file:// URLs."""

import getpass
import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from runner_scripts import run_script

OS_RELEASES = {
    "ubuntu-22.04": ('ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\n', "debian"),
    "debian-12": ('ID=debian\nVERSION_ID="12"\n', "debian"),
    "linuxmint": ('ID=linuxmint\nID_LIKE="ubuntu debian"\n', "debian"),
    "ubi-9": ('ID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n', "rpm"),
    "rocky-9": ('ID="rocky"\nID_LIKE="rhel centos fedora"\n', "rpm"),
    "amazonlinux-2023": ('NAME="Amazon Linux"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n', "rpm"),
    "amazonlinux-2": ('ID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n', "rpm"),
    "fedora-41": ("ID=fedora\nVERSION_ID=41\n", "rpm"),
}
UNSUPPORTED_OS_RELEASES = {
    "alpine": ("ID=alpine\nVERSION_ID=3.20.0\n", "ID=alpine"),
    "opensuse": ('ID="opensuse-leap"\nID_LIKE="suse opensuse"\n', "ID=opensuse-leap"),
}


def os_release(tmp_path: Path, content: str) -> dict[str, str]:
    path = tmp_path / "os-release"
    path.write_text(content)
    return {"OS_RELEASE_FILE": str(path)}


@pytest.mark.parametrize(("content", "family"), OS_RELEASES.values(), ids=OS_RELEASES.keys())
def test_install_deps_detects_the_package_family(tmp_path, content, family):
    result = run_script("install-deps.sh", os_release(tmp_path, content), "--print-family")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == family


@pytest.mark.parametrize(
    ("content", "named"), UNSUPPORTED_OS_RELEASES.values(), ids=UNSUPPORTED_OS_RELEASES.keys()
)
def test_install_deps_refuses_other_bases_clearly(tmp_path, content, named):
    result = run_script("install-deps.sh", os_release(tmp_path, content))

    assert result.returncode == 1
    assert "unsupported base image" in result.stderr
    assert named in result.stderr
    assert "Debian/Ubuntu" in result.stderr


def test_install_deps_refuses_a_base_without_os_release(tmp_path):
    result = run_script("install-deps.sh", {"OS_RELEASE_FILE": str(tmp_path / "missing")})

    assert result.returncode == 1
    assert "unsupported base image" in result.stderr


def fake_apt_cache(tmp_path: Path, available: list[str]) -> dict[str, str]:
    """An apt-cache that knows libicu66..libicu74 by name but has candidates only for ``available``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "apt-cache"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = pkgnames ]; then\n'
        '  printf "libicu-dev\\nlibicu66\\nlibicu70\\nlibicu72\\nlibicu74\\n"; exit 0\n'
        "fi\n"
        f'case " {" ".join(available)} " in\n'
        '  *" $2 "*) printf "%s:\\n  Installed: (none)\\n  Candidate: 1.0-1\\n" "$2" ;;\n'
        '  *) printf "%s:\\n  Installed: (none)\\n  Candidate: (none)\\n" "$2" ;;\n'
        "esac\n"
    )
    script.chmod(0o755)
    return {"PATH": f"{bin_dir}:/usr/bin:/bin"}


def print_debian_packages(tmp_path: Path, available: list[str]):
    env = {**os_release(tmp_path, OS_RELEASES["ubuntu-22.04"][0]), **fake_apt_cache(tmp_path, available)}
    return run_script("install-deps.sh", env, "--print-packages")


def test_install_deps_picks_the_newest_available_icu_and_ssl(tmp_path):
    result = print_debian_packages(
        tmp_path, ["libicu66", "libicu72", "libssl1.1", "libssl3", "liblttng-ust1"]
    )

    assert result.returncode == 0, result.stderr
    packages = result.stdout.split()
    assert {"libicu72", "libssl3", "liblttng-ust1", "libkrb5-3", "zlib1g"} <= set(packages)
    assert {"libicu66", "libicu74", "libssl1.1"}.isdisjoint(packages)
    assert {"git", "curl", "jq", "unzip", "sudo", "ca-certificates", "lsb-release"} <= set(packages)


def test_install_deps_does_without_lttng(tmp_path):
    result = print_debian_packages(tmp_path, ["libicu70", "libssl3"])

    assert result.returncode == 0, result.stderr
    assert not [package for package in result.stdout.split() if "lttng" in package]


def test_install_deps_fails_clearly_without_icu(tmp_path):
    result = print_debian_packages(tmp_path, ["libssl3"])

    assert result.returncode == 1
    assert "libicu" in result.stderr


def test_install_deps_lists_the_runner_dependencies_for_rpm_bases(tmp_path):
    result = run_script("install-deps.sh", os_release(tmp_path, OS_RELEASES["ubi-9"][0]), "--print-packages")

    assert result.returncode == 0, result.stderr
    assert {"libicu", "krb5-libs", "zlib", "openssl-libs", "git", "jq", "sudo", "shadow-utils"} <= set(
        result.stdout.split()
    )


VERSION = "2.999.0"


def tarball(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def release_mirror(tmp_path):
    """file:// mirrors of the runner and tini releases, with a distinct payload per architecture."""
    assets = {}
    for runner_arch, tini_arch in (("x64", "amd64"), ("arm64", "arm64")):
        runner = tarball({"run.sh": f"#!/bin/sh\necho {runner_arch}\n", "bin/Runner.Listener": runner_arch})
        runner_path = (
            tmp_path / "runner" / f"v{VERSION}" / f"actions-runner-linux-{runner_arch}-{VERSION}.tar.gz"
        )
        tini = f"tini for {tini_arch}".encode()
        tini_path = tmp_path / "tini" / "v0.19.0" / f"tini-static-{tini_arch}"
        for path, data in ((runner_path, runner), (tini_path, tini)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        assets[runner_arch] = (hashlib.sha256(runner).hexdigest(), hashlib.sha256(tini).hexdigest(), tini)
    install_root = tmp_path / "install"
    env = {
        "RUNNER_VERSION": VERSION,
        "RUNNER_SHA256_X64": assets["x64"][0],
        "RUNNER_SHA256_ARM64": assets["arm64"][0],
        "TINI_VERSION": "v0.19.0",
        "TINI_SHA256_AMD64": assets["x64"][1],
        "TINI_SHA256_ARM64": assets["arm64"][1],
        "RUNNER_DOWNLOAD_BASE": (tmp_path / "runner").as_uri(),
        "TINI_DOWNLOAD_BASE": (tmp_path / "tini").as_uri(),
        "RUNNER_HOME": str(install_root / "actions-runner"),
        "TINI_PATH": str(install_root / "tini"),
        "RUNNER_USER": getpass.getuser(),
    }
    install_root.mkdir()
    return env, assets


@pytest.mark.parametrize(("target_arch", "runner_arch"), [("amd64", "x64"), ("arm64", "arm64")])
def test_install_runner_installs_the_verified_assets_of_the_target_arch(
    release_mirror, target_arch, runner_arch
):
    env, assets = release_mirror

    result = run_script("install-runner.sh", {**env, "TARGETARCH": target_arch})

    assert result.returncode == 0, result.stderr
    runner_home = Path(env["RUNNER_HOME"])
    assert (runner_home / "run.sh").read_text() == f"#!/bin/sh\necho {runner_arch}\n"
    assert (runner_home / "bin" / "Runner.Listener").read_text() == runner_arch
    tini = Path(env["TINI_PATH"])
    assert tini.read_bytes() == assets[runner_arch][2]
    assert tini.stat().st_mode & 0o777 == 0o755


@pytest.mark.parametrize("corrupted", ["RUNNER_SHA256_X64", "TINI_SHA256_AMD64"])
def test_install_runner_refuses_an_asset_whose_checksum_differs(release_mirror, corrupted):
    env, _ = release_mirror
    env = {**env, "TARGETARCH": "amd64", corrupted: "0" * 64}

    result = run_script("install-runner.sh", env)

    assert result.returncode == 1
    assert "checksum mismatch" in result.stderr
    assert not Path(env["TINI_PATH"]).exists()
    assert not (Path(env["RUNNER_HOME"]) / "run.sh").exists()


def test_install_runner_refuses_an_unsupported_architecture(release_mirror):
    env, _ = release_mirror

    result = run_script("install-runner.sh", {**env, "TARGETARCH": "s390x"})

    assert result.returncode == 1
    assert "unsupported TARGETARCH=s390x" in result.stderr
