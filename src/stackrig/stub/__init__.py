"""WireMock-compatible HTTP stub server (``kind = "http-stub"``) and its Python client.

The server is a separate process — ``python -m stackrig.stub --port N --root DIR`` — that reads
WireMock mapping files from ``DIR/mappings`` (bodies from ``DIR/__files``) and speaks WireMock's
admin API, so existing mapping files and WireMock clients work unchanged.  From tests::

    from stackrig.stub import StubClient, post

    stub = StubClient("http://127.0.0.1:8080")
    stub.on(post("/charges").json_body({"amount": 100})).reply(201, json={"id": "ch_1"})
    ...  # exercise the code under test
    stub.verify(post("/charges"), times=1)
"""

from __future__ import annotations

from ._builders import (
    Matcher,
    RequestSpec,
    absent,
    any_request,
    containing,
    delete,
    equal_to,
    equal_to_json,
    get,
    head,
    matching,
    matching_json_path,
    not_matching,
    options,
    patch,
    post,
    put,
    request,
)
from ._client import RecordedRequest, Stub, StubBuilder, StubClient
from ._errors import MappingError, StubAdminError, VerificationFailed

__all__ = [
    "MappingError",
    "Matcher",
    "RecordedRequest",
    "RequestSpec",
    "Stub",
    "StubAdminError",
    "StubBuilder",
    "StubClient",
    "VerificationFailed",
    "absent",
    "any_request",
    "containing",
    "delete",
    "equal_to",
    "equal_to_json",
    "get",
    "head",
    "matching",
    "matching_json_path",
    "not_matching",
    "options",
    "patch",
    "post",
    "put",
    "request",
]
