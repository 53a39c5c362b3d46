"""Product images in S3: the stack's ``aws`` service (moto), bucket ``product-images``, checked with
boto3 from the test; stackrig empties the bucket back to its baseline after each test."""

from __future__ import annotations

from typing import Any

import boto3
import httpx
import pytest
from _support import RegisteredUser, assert_error, png

from stackrig import Rig

BUCKET = "product-images"


@pytest.fixture
def s3(rig: Rig) -> Any:
    aws = rig["aws"]
    return boto3.client("s3", endpoint_url=aws.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def keys(s3: Any) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def upload(api: httpx.Client, user: RegisteredUser, product_id: int, data: bytes,
           content_type: str = "image/png") -> httpx.Response:
    return api.put(f"/products/{product_id}/image", content=data,
                   headers={**user.headers, "Content-Type": content_type})


def test_an_uploaded_image_is_stored_in_s3_and_served(
    s3: Any, api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    assert keys(s3) == []  # the baseline: an empty bucket
    data = png(4096)
    uploaded = upload(api, user, product["id"], data)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json() == {**product, "image_url": f"/products/{product['id']}/image"}
    stored = s3.get_object(Bucket=BUCKET, Key=f"products/{product['id']}")
    assert stored["ContentType"] == "image/png" and stored["Body"].read() == data
    served = api.get(f"/products/{product['id']}/image")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png" and served.content == data


def test_a_new_image_replaces_the_old_one(s3: Any, api: httpx.Client, user: RegisteredUser,
                                          product: dict[str, Any]) -> None:
    assert upload(api, user, product["id"], png(100)).status_code == 200
    jpeg = b"\xff\xd8\xff\xe0" + b"jfif" * 50
    assert upload(api, user, product["id"], jpeg, "image/jpeg").status_code == 200
    assert keys(s3) == [f"products/{product['id']}"]
    served = api.get(f"/products/{product['id']}/image")
    assert (served.headers["content-type"], served.content) == ("image/jpeg", jpeg)


def test_deleting_the_product_deletes_its_image(s3: Any, api: httpx.Client, user: RegisteredUser,
                                                product: dict[str, Any]) -> None:
    assert upload(api, user, product["id"], png()).status_code == 200
    assert api.delete(f"/products/{product['id']}", headers=user.headers).status_code == 204
    assert keys(s3) == []


@pytest.mark.parametrize(
    ("data", "content_type", "status", "words"),
    [
        (b"GIF89a....", "image/gif", 415, ("image/png", "not image/gif")),
        (b"not a png at all", "image/png", 415, ("not a image/png image",)),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024), "image/png", 413, ("at most 2097152 bytes",)),
    ],
    ids=["wrong-type", "not-what-it-says", "too-large"],
)
def test_what_is_not_an_image_is_refused(
    s3: Any, api: httpx.Client, user: RegisteredUser, product: dict[str, Any],
    data: bytes, content_type: str, status: int, words: tuple[str, ...],
) -> None:
    assert_error(upload(api, user, product["id"], data, content_type), status, *words)
    assert keys(s3) == []


def test_uploads_need_a_token_and_a_product(s3: Any, api: httpx.Client, user: RegisteredUser) -> None:
    assert_error(api.put("/products/1/image", content=png(), headers={"Content-Type": "image/png"}), 401)
    assert_error(upload(api, user, 2**62, png()), 404, "not found")
    assert_error(api.get("/products/1/image"), 404, "has no image")
    assert keys(s3) == []


def test_storage_down_is_a_503(rig: Rig, api: httpx.Client, user: RegisteredUser, product: dict[str, Any]) -> None:
    rig["aws"].stop()
    try:
        assert_error(upload(api, user, product["id"], png()), 503, "image storage is unavailable")
    finally:
        rig["aws"].start()
    assert api.get(f"/products/{product['id']}").json()["image_url"] is None
