"""ImageRegistry on the runner ECR repository."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ..ports import RegistryImage

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient


def _image(detail: Any, tag: str) -> RegistryImage:
    return RegistryImage(
        tag=tag,
        pushed_at=detail.get("imagePushedAt"),
        size_bytes=detail.get("imageSizeInBytes"),
        digest=detail.get("imageDigest"),
    )


class EcrRegistry:
    def __init__(self, client: ECRClient, repository_url: str) -> None:
        self._ecr = client
        self._url = repository_url
        self._repository = repository_url.split("/", 1)[1] if "/" in repository_url else repository_url

    def image_uri(self, tag: str) -> str:
        return f"{self._url}:{tag}"

    def find(self, tag: str) -> RegistryImage | None:
        try:
            details = self._ecr.describe_images(repositoryName=self._repository, imageIds=[{"imageTag": tag}])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ImageNotFoundException":
                return None
            raise
        for detail in details.get("imageDetails", []):
            return _image(detail, tag)
        return None

    def list(self) -> Iterator[RegistryImage]:
        paginator = self._ecr.get_paginator("describe_images")
        for page in paginator.paginate(repositoryName=self._repository, filter={"tagStatus": "TAGGED"}):
            for detail in page.get("imageDetails", []):
                for tag in detail.get("imageTags", []):
                    yield _image(detail, tag)
