"""runner/validate-build-env.sh: the image build refuses any environment the buildspec must not use."""

import pytest
from ecsrunner_core.domain.image_ref import ImageReferenceError, parse_image_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from runner_scripts import run_script

DIGEST = "sha256:" + "0123456789abcdef" * 4
VALID_ENV = {
    "BASE_IMAGE": "ubuntu:22.04",
    "IMAGE_TAG": "ubuntu-22.04-0123456789ab",
    "REPOSITORY_URI": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ecsrunner-runner",
    "ENABLE_SOCI": "false",
}
VALID_REFERENCES = [
    "ubuntu:22.04",
    "ubuntu",
    "public.ecr.aws/docker/library/debian:12",
    "localhost:5000/a/b:c",
    f"registry.example.com/x@{DIGEST}",
    f"ghcr.io/org/image:v1.2.3@{DIGEST}",
    "amazonlinux:2023",
    "registry.access.redhat.com/ubi9/ubi-minimal:9.4",
    "docker.io/library/ubuntu:_tag",
    "a__b/c---d/e.f_g:" + "t" * 128,
]
INVALID_REFERENCES = [
    "",
    "ubuntu;id",
    "ubuntu:22.04;id",
    "ubuntu && id",
    "ubuntu 22.04",
    "$(id)",
    "`id`",
    "ubuntu|id",
    "Ubuntu:22.04",
    "library/Ubuntu",
    "ubuntu:",
    "ubuntu:-tag",
    "ubuntu:.tag",
    "ubuntu:" + "t" * 129,
    "a//b",
    "/ubuntu",
    "ubuntu/",
    "-ubuntu",
    "ubuntu@sha256:abc",
    f"ubuntu@sha512:{'0' * 128}",
    f"ubuntu@{DIGEST.upper()}",
    "ubuntu\n",
    "ubuntü",
    "-registry.io/x",
    "registry.io:port/x",
    "a" * 256,
]


def validate(**overrides: str | None):
    env = {key: value for key, value in {**VALID_ENV, **overrides}.items() if value is not None}
    return run_script("validate-build-env.sh", env)


def test_accepts_the_control_plane_contract():
    result = validate()

    assert result.returncode == 0, result.stderr
    assert VALID_ENV["IMAGE_TAG"] in result.stdout


@pytest.mark.parametrize("reference", VALID_REFERENCES)
def test_accepts_valid_base_images(reference):
    result = validate(BASE_IMAGE=reference)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("reference", INVALID_REFERENCES)
def test_refuses_invalid_base_images(reference):
    result = validate(BASE_IMAGE=reference)

    assert result.returncode == 1
    assert "BASE_IMAGE" in result.stderr
    assert "building" not in result.stdout


@pytest.mark.parametrize("tag", ["t", "_x", "0", "v1.2.3-rc.1_b", "T" * 128])
def test_accepts_valid_image_tags(tag):
    assert validate(IMAGE_TAG=tag).returncode == 0


@pytest.mark.parametrize("tag", ["", "-x", ".x", "a b", "a;b", "a:b", "a/b", "ä", "$(id)", "T" * 129])
def test_refuses_invalid_image_tags(tag):
    result = validate(IMAGE_TAG=tag)

    assert result.returncode == 1
    assert "IMAGE_TAG" in result.stderr


@pytest.mark.parametrize("uri", ["localhost:5000/runner", "123456789012.dkr.ecr.us-east-1.amazonaws.com/a/b"])
def test_accepts_repository_urls(uri):
    assert validate(REPOSITORY_URI=uri).returncode == 0


@pytest.mark.parametrize(
    "uri",
    ["runner", "host.io/Runner", "host.io/runner:tag", f"host.io/runner@{DIGEST}", "host.io/a;b", "host.io/"],
)
def test_refuses_repository_urls_that_are_not_host_and_path(uri):
    result = validate(REPOSITORY_URI=uri)

    assert result.returncode == 1
    assert "REPOSITORY_URI" in result.stderr


@pytest.mark.parametrize("value", ["true", "false"])
def test_accepts_enable_soci_booleans(value):
    assert validate(ENABLE_SOCI=value).returncode == 0


@pytest.mark.parametrize("value", ["", "yes", "TRUE", "1"])
def test_refuses_other_enable_soci_values(value):
    result = validate(ENABLE_SOCI=value)

    assert result.returncode == 1
    assert "ENABLE_SOCI" in result.stderr


@pytest.mark.parametrize("name", sorted(VALID_ENV))
def test_refuses_a_missing_variable(name):
    result = validate(**{name: None})

    assert result.returncode == 1
    assert f"{name}=" in result.stderr
    assert "not set" in result.stderr


def test_reports_every_problem_at_once():
    result = validate(BASE_IMAGE="Bad", IMAGE_TAG="-bad")

    assert result.returncode == 1
    assert "BASE_IMAGE" in result.stderr
    assert "IMAGE_TAG" in result.stderr


FRAGMENTS = [
    "ubuntu", "library", "a", "a-b", "a__b", "a_b", "a.b", "a---b", "Ubuntu", "-a", "a-", "_a", "A",
    "localhost", "localhost:5000", "registry.example.com", "reg-1.io:443", "my_reg.io", "reg.io:x",
    "/", "/", "/", ":", "@", ":22.04", ":latest", ":_t", ":-x", ":.x", ":T.1-2", ":" + "t" * 128,
    ":" + "t" * 129, f"@{DIGEST}", f"@{DIGEST.upper()}", "@sha256:abc", " ", ";", "$(id)", "ü", "\n",
    "x" * 120,
]  # fmt: skip
references = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=7).map("".join) | st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters="\0"), max_size=30
)


def python_accepts(reference: str) -> bool:
    try:
        parse_image_reference(reference)
    except ImageReferenceError:
        return False
    return True


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(references)
def test_agrees_with_the_control_plane_parser(reference):
    """The build refuses exactly what the control plane's parser refuses, so no valid label fails late."""
    assert (validate(BASE_IMAGE=reference).returncode == 0) == python_accepts(reference)
