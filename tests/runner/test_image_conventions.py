"""runner/image-conventions.sh (ImageOS in the runner's .env, the tool cache, lsb_release) and
runner/lsb-release-shim.sh, run against fake /etc/os-release files and a temporary RUNNER_HOME."""

import getpass
import os
import stat
from pathlib import Path

import pytest
from runner_scripts import RUNNER_DIR, run_script

OS_RELEASES = {
    "ubuntu-22.04": (
        'NAME="Ubuntu"\nVERSION_ID="22.04"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 22.04.4 LTS"\n'
        "VERSION_CODENAME=jammy\n",
        "ubuntu22",
    ),
    "ubuntu-24.04": ('ID=ubuntu\nVERSION_ID="24.04"\n', "ubuntu24"),
    "debian-12": ('ID=debian\nVERSION_ID="12"\n', "debian12"),
    "debian-sid": ("ID=debian\n", "debian"),
    "amazonlinux-2023": (
        'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n'
        'PRETTY_NAME="Amazon Linux 2023.6.20250115"\n',
        "amzn2023",
    ),
    "amazonlinux-2": ('ID="amzn"\nVERSION_ID="2"\n', "amzn2"),
    "ubi-9": ('NAME="Red Hat Enterprise Linux"\nID="rhel"\nVERSION_ID="9.4"\n', "rhel9"),
    "rocky-9": ('ID="rocky"\nVERSION_ID="9.3"\n', "rocky9"),
}


def os_release(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "os-release"
    path.write_text(content)
    return path


def bin_dir(tmp_path: Path, *, with_lsb_release: bool) -> str:
    """A PATH with the tools the script needs, and an lsb_release only when asked for."""
    directory = tmp_path / "bin"
    directory.mkdir(exist_ok=True)
    for tool in ("sh", "sed", "head", "tr", "dirname", "install", "mkdir", "chown", "grep", "mv"):
        found = next(Path(d) / tool for d in ("/usr/bin", "/bin") if (Path(d) / tool).exists())
        (directory / tool).symlink_to(found)
    if with_lsb_release:
        fake = directory / "lsb_release"
        fake.write_text("#!/bin/sh\necho the base's own\n")
        fake.chmod(0o755)
    return str(directory)


def conventions(tmp_path: Path, content: str, *, with_lsb_release: bool = False, **extra: str):
    runner_home = tmp_path / "actions-runner"
    runner_home.mkdir(exist_ok=True)
    env = {
        "PATH": bin_dir(tmp_path, with_lsb_release=with_lsb_release),
        "OS_RELEASE_FILE": str(os_release(tmp_path, content)),
        "RUNNER_HOME": str(runner_home),
        "AGENT_TOOLSDIRECTORY": str(tmp_path / "opt" / "hostedtoolcache"),
        "RUNNER_USER": getpass.getuser(),
        "LSB_RELEASE_PATH": str(tmp_path / "usr-local-bin-lsb_release"),
        **extra,
    }
    return run_script("image-conventions.sh", env), runner_home


@pytest.mark.parametrize(("content", "image_os"), OS_RELEASES.values(), ids=OS_RELEASES.keys())
def test_image_os_is_the_id_and_major_version(tmp_path, content, image_os):
    result, runner_home = conventions(tmp_path, content)

    assert result.returncode == 0, result.stderr
    assert (runner_home / ".env").read_text() == f"ImageOS={image_os}\n"


def test_the_runner_env_file_keeps_other_lines_and_one_image_os(tmp_path):
    runner_home = tmp_path / "actions-runner"
    runner_home.mkdir()
    (runner_home / ".env").write_text("LANG=C.UTF-8\nImageOS=stale\n")

    result, _ = conventions(tmp_path, OS_RELEASES["debian-12"][0])

    assert result.returncode == 0, result.stderr
    assert (runner_home / ".env").read_text() == "LANG=C.UTF-8\nImageOS=debian12\n"


def test_the_tool_cache_is_created_for_the_runner_user(tmp_path):
    result, _ = conventions(tmp_path, OS_RELEASES["ubuntu-22.04"][0])

    assert result.returncode == 0, result.stderr
    cache = tmp_path / "opt" / "hostedtoolcache"
    assert cache.is_dir()
    assert cache.stat().st_uid == os.getuid()


def test_a_base_without_lsb_release_gets_the_shim(tmp_path):
    result, _ = conventions(tmp_path, OS_RELEASES["amazonlinux-2023"][0])

    assert result.returncode == 0, result.stderr
    installed = tmp_path / "usr-local-bin-lsb_release"
    assert installed.read_bytes() == (RUNNER_DIR / "lsb-release-shim.sh").read_bytes()
    assert stat.S_IMODE(installed.stat().st_mode) == 0o755
    assert "installed the os-release shim" in result.stdout


def test_a_base_with_lsb_release_keeps_its_own(tmp_path):
    result, _ = conventions(tmp_path, OS_RELEASES["ubuntu-22.04"][0], with_lsb_release=True)

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "usr-local-bin-lsb_release").exists()


def test_an_unreadable_os_release_fails_the_build(tmp_path):
    result, runner_home = conventions(tmp_path, "", OS_RELEASE_FILE=str(tmp_path / "missing"))

    assert result.returncode == 1
    assert "cannot read" in result.stderr
    assert not (runner_home / ".env").exists()


# --- the shim ------------------------------------------------------------------------------------


def lsb_release(tmp_path: Path, content: str, *args: str):
    return run_script("lsb-release-shim.sh", {"OS_RELEASE_FILE": str(os_release(tmp_path, content))}, *args)


AL2023 = OS_RELEASES["amazonlinux-2023"][0]
UBUNTU = OS_RELEASES["ubuntu-22.04"][0]


@pytest.mark.parametrize("args", [["-i", "-r", "-s"], ["-irs"], ["-sri"], ["--id", "--release", "--short"]])
def test_setup_python_call_prints_id_and_release_one_per_line(tmp_path, args):
    """actions/setup-python splits `lsb_release -i -r -s` on newlines: [name, version]."""
    result = lsb_release(tmp_path, UBUNTU, *args)

    assert result.returncode == 0, result.stderr
    assert result.stdout == "Ubuntu\n22.04\n"


def test_all_fields_in_lsb_release_layout(tmp_path):
    result = lsb_release(tmp_path, AL2023, "-a")

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "LSB Version:\tn/a\n"
        "Distributor ID:\tAmzn\n"
        "Description:\tAmazon Linux 2023.6.20250115\n"
        "Release:\t2023\n"
        "Codename:\tn/a\n"
    )


def test_distributor_id_is_name_when_it_only_differs_in_case(tmp_path):
    result = lsb_release(tmp_path, 'NAME="Fedora Linux"\nID=fedora\n', "-is")
    assert result.stdout == "Fedora\n"
    result = lsb_release(tmp_path, 'NAME="AlmaLinux"\nID="almalinux"\n', "-is")
    assert result.stdout == "AlmaLinux\n"


def test_codename_and_description(tmp_path):
    result = lsb_release(tmp_path, UBUNTU, "-c", "-d")

    assert result.stdout == "Description:\tUbuntu 22.04.4 LTS\nCodename:\tjammy\n"


@pytest.mark.parametrize("argument", ["-x", "--nope", "extra"])
def test_unknown_arguments_are_usage_errors(tmp_path, argument):
    result = lsb_release(tmp_path, UBUNTU, argument)

    assert result.returncode == 2
    assert argument in result.stderr
    assert "Usage: lsb_release" in result.stderr
    assert result.stdout == ""


def test_the_shim_never_executes_os_release(tmp_path):
    marker = tmp_path / "executed"
    result = lsb_release(tmp_path, f'ID=ubuntu\nVERSION_ID="$(touch {marker})"\n', "-rs")

    assert result.returncode == 0
    assert not marker.exists()
