"""GET /health: 200 when the database answers; 503 otherwise (via the global handler)."""

from __future__ import annotations

from fastapi import APIRouter

from shop.state import DbConn

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(conn: DbConn) -> dict[str, str]:
    await conn.execute("SELECT 1")
    return {"status": "ok"}
