"""JitStore on S3: one SSE-KMS object per runner, read only by the tasks' execution role."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

JIT_PREFIX = "jit/"


class S3JitStore:
    def __init__(self, client: S3Client, bucket: str, kms_key_arn: str, partition: str = "aws") -> None:
        self._s3 = client
        self._bucket = bucket
        self._kms_key_arn = kms_key_arn
        self._partition = partition

    def key(self, runner_name: str) -> str:
        return f"{JIT_PREFIX}{runner_name}.env"

    def put(self, runner_name: str, content: str) -> str:
        extra: dict[str, Any] = {"SSEKMSKeyId": self._kms_key_arn} if self._kms_key_arn else {}
        self._s3.put_object(
            Bucket=self._bucket,
            Key=self.key(runner_name),
            Body=content.encode(),
            ContentType="text/plain",
            ServerSideEncryption="aws:kms",
            **extra,
        )
        return f"arn:{self._partition}:s3:::{self._bucket}/{self.key(runner_name)}"

    def delete(self, runner_name: str) -> None:
        self._s3.delete_object(Bucket=self._bucket, Key=self.key(runner_name))
