"""Provider states of the test provider (users, orders): SQL through the stack's DATABASE_URL."""

from __future__ import annotations

import httpx
import psycopg

from stackrig.pact import provider_state, trigger


def _sql(env: dict[str, str], query: str, args: tuple[object, ...] = ()) -> None:
    with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(query, args)


@provider_state("user {id} exists")
def user_exists(id: int, env: dict[str, str], name: str = "Alice", email: str = "alice@example.com") -> dict[str, int]:
    _sql(env, "INSERT INTO users (id, name, email) VALUES (%s, %s, %s)", (id, name, email))
    return {"id": id}


@provider_state("no users exist")
def no_users() -> None:
    """Nothing to do: the data is reset to the (empty) baseline before every interaction."""


@provider_state("a broken state")
def broken() -> None:
    raise RuntimeError("the fixture data could not be written")


@trigger("an order created event")
def order_created(url: str, user_id: int = 1, total_cents: int = 1500) -> None:
    httpx.post(f"{url}/orders", json={"user_id": user_id, "total_cents": total_cents}, timeout=10).raise_for_status()


@trigger("a silent order")
def silent() -> None:
    """Publishes nothing: the verification must say no message came."""
