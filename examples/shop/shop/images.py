"""Product images in S3 (the stack's `aws` service: moto), through the standard AWS_* variables.

The bucket is ``IMAGES_BUCKET``; an image's key is ``products/{id}``, its content type kept as the
object's ``ContentType``.  boto3 is synchronous: calls run in a thread.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from shop.errors import ApiError

__all__ = ["ImageStore", "MAX_IMAGE_BYTES", "sniff"]

log = logging.getLogger("shop")

MAX_IMAGE_BYTES = 2 * 1024 * 1024
_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
}


def sniff(content_type: str, data: bytes) -> bool:
    """Whether `data` starts like an image of `content_type` (the client's word is not enough)."""
    if content_type == "image/webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    return any(data.startswith(sig) for sig in _SIGNATURES.get(content_type, ()))


class ImageStore:
    def __init__(self, bucket: str) -> None:
        self.bucket = bucket
        self._s3: Any = boto3.client("s3", config=Config(connect_timeout=2, read_timeout=5,
                                                         retries={"max_attempts": 2}))

    @staticmethod
    def key(product_id: int) -> str:
        return f"products/{product_id}"

    async def put(self, product_id: int, data: bytes, content_type: str) -> str:
        key = self.key(product_id)
        try:
            await asyncio.to_thread(self._s3.put_object, Bucket=self.bucket, Key=key, Body=data,
                                    ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            log.warning("storing the image of product %s in s3://%s failed: %r", product_id, self.bucket, exc)
            raise ApiError(503, "image storage is unavailable; retry later", headers={"Retry-After": "1"}) from exc
        return key

    async def get(self, key: str) -> tuple[bytes, str] | None:
        try:
            obj = await asyncio.to_thread(self._s3.get_object, Bucket=self.bucket, Key=key)
            data = await asyncio.to_thread(obj["Body"].read)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise ApiError(503, "image storage is unavailable; retry later", headers={"Retry-After": "1"}) from exc
        except BotoCoreError as exc:
            raise ApiError(503, "image storage is unavailable; retry later", headers={"Retry-After": "1"}) from exc
        return data, str(obj.get("ContentType") or "application/octet-stream")

    async def delete(self, key: str) -> None:
        try:
            await asyncio.to_thread(self._s3.delete_object, Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as exc:
            log.warning("deleting s3://%s/%s failed: %r", self.bucket, key, exc)
