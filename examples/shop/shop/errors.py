"""The one error convention of the API: every error body is ``{"error": "<message>"}``.

Validation failures add ``"details"`` (one entry per invalid field).  Database
connection failures on any route become ``503 {"error": "Service temporarily
unavailable"}``, so the app keeps serving and recovers once the database is back.
"""

from __future__ import annotations

import logging
from typing import Any

import psycopg
import psycopg_pool
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

__all__ = ["DB_UNAVAILABLE", "ApiError", "install_error_handlers"]

log = logging.getLogger("shop")

DB_UNAVAILABLE = "Service temporarily unavailable"


class ApiError(Exception):
    """An expected failure with its HTTP status; the message is shown to the client."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self.status = status
        self.message = message
        self.headers = headers
        super().__init__(f"{status}: {message}")


def _body(message: str, **extra: Any) -> dict[str, Any]:
    return {"error": message, **extra}


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(_body(exc.message), status_code=exc.status, headers=exc.headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse(_body(str(exc.detail)), status_code=exc.status_code, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"field": ".".join(str(part) for part in err.get("loc", ())), "message": err.get("msg", "")}
        for err in exc.errors()
    ]
    fields = ", ".join(d["field"] for d in details)
    return JSONResponse(
        jsonable_encoder(_body(f"validation failed: {fields}", details=details)), status_code=422
    )


async def _db_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(_body(DB_UNAVAILABLE), status_code=503, headers={"Retry-After": "1"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # OperationalError: connection refused/lost, server shutting down; PoolTimeout:
    # no healthy connection could be had in time (the pool keeps reconnecting).
    app.add_exception_handler(psycopg.OperationalError, _db_unavailable)
    app.add_exception_handler(psycopg_pool.PoolTimeout, _db_unavailable)
