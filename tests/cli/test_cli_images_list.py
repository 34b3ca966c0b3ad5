"""`images list`: image records (built by ecsrunner) joined with the tags in ECR."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from ecsrunner_core.domain.images import ImageRecord, ImageState
from ecsrunner_core.usecases.prebuild import image_target, ready_image
from ecsrunner_core.views import image_view
from ecsrunner_sandbox.provision import Deployment, push_image

from tests.cli.conftest import forget_images

FAILED_TAG = "node-20-x86_64-" + "f" * 40
OUT_OF_BAND_TAG = "hand-made-x86_64-" + "e" * 40


@pytest.fixture
def session(shared_deployment) -> boto3.Session:
    return shared_deployment[0]


@pytest.fixture
def deployment(shared_deployment) -> Deployment:
    """The module's deployment, without the images earlier tests built."""
    session, deployment = shared_deployment
    forget_images(session, deployment)
    return deployment


@pytest.fixture
def images(deployment, services, session, configure):
    settings = deployment.settings
    ready = image_target(settings, None, "x86_64")
    push_image(session, settings, ready.tag)
    assert ready_image(services.deps(), ready) is not None  # registered READY, as the control plane does
    at = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    services.store.save_image(
        ImageRecord(
            tag=FAILED_TAG,
            base_image="docker.io/library/node:20",
            architecture="x86_64",
            state=ImageState.FAILED,
            created_at=at,
            updated_at=at,
            build_id="ecsr-image-build:1",
            reason="build FAILED",
        )
    )
    push_image(session, settings, OUT_OF_BAND_TAG)
    configure(settings)
    return ready


def test_table_joins_records_and_registry(cli, images) -> None:
    result = cli("images", "list")
    assert result.code == 0, result.err
    header, *rows = result.out.splitlines()
    assert header.split() == ["BASE", "IMAGE", "TAG", "ARCH", "STATE", "BUILT", "AT", "SIZE"]
    by_tag = {row.split()[1]: row.split() for row in rows}
    assert set(by_tag) == {images.tag, FAILED_TAG, OUT_OF_BAND_TAG}
    assert by_tag[images.tag][0] == "ubuntu:22.04"
    assert by_tag[images.tag][2:4] == ["x86_64", "READY"]
    assert by_tag[images.tag][-2:] == ["6.9", "KiB"]  # the ECR size, recorded at registration
    assert by_tag[FAILED_TAG][:4] == ["node:20", FAILED_TAG, "x86_64", "FAILED"]
    assert by_tag[FAILED_TAG][4:] == ["-", "-"]  # never built
    assert by_tag[OUT_OF_BAND_TAG][:4] == ["-", OUT_OF_BAND_TAG, "-", "PUSHED"]


def test_json_is_the_core_catalog_view(cli, images, services) -> None:
    result = cli("images", "list", "--json")
    assert result.code == 0
    listed = {item["tag"]: item for item in json.loads(result.out)}
    registry_keys = {"in_registry", "pushed_at", "digest"}
    core_view = image_view(services.store.get_image(images.tag))
    assert {k: v for k, v in listed[images.tag].items() if k not in registry_keys} == core_view
    assert listed[images.tag]["in_registry"] is True
    assert listed[images.tag]["state"] == "READY" and listed[images.tag]["size_bytes"] == 7023
    assert listed[FAILED_TAG]["in_registry"] is False and listed[FAILED_TAG]["reason"] == "build FAILED"
    pushed = listed[OUT_OF_BAND_TAG]
    assert (pushed["state"], pushed["base_image"], pushed["in_registry"]) == (None, None, True)
    assert pushed["digest"].startswith("sha256:")
    # The same keys for every entry, whether ecsrunner built it or not.
    assert all(item.keys() == core_view.keys() | registry_keys for item in listed.values())


def test_without_the_repository_only_records_are_listed(cli, images, clean_env) -> None:
    clean_env.delenv("ECR_REPOSITORY_URL")
    result = cli("images", "list", "--json")
    assert result.code == 0
    assert {item["tag"] for item in json.loads(result.out)} == {images.tag, FAILED_TAG}
    assert "ECR_REPOSITORY_URL is not set" in result.err


def test_no_images_yet(cli, deployment, configure) -> None:
    configure(RUNNER_TABLE=deployment.settings.runner_table)
    result = cli("images", "list")
    assert (result.code, result.out) == (0, "")
    assert "no runner images yet" in result.err
