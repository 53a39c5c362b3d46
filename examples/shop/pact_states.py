"""Provider states of the shop API, for ``stackrig pact verify --provider api``.

Each state writes real rows through the stack's ``DATABASE_URL`` (psycopg); stackrig resets the
database to ``seed.sql`` and flushes Redis (the product cache) before every interaction, so a state
only adds what it names.  From the shop's folder::

    stackrig pact verify ../shop-pact/pacts --provider api --states ../shop-pact/shop_states.py

(or, once the stack file names it, ``pact_states = "../shop-pact/shop_states.py"``).
"""

from __future__ import annotations

import bcrypt
import httpx
import psycopg

from stackrig.pact import provider_state

PASSWORD = "pact-password-0123"  # the password every state's user gets (only bcrypt's hash is stored)


def _connect(env: dict[str, str]) -> psycopg.Connection:  # type: ignore[type-arg]
    return psycopg.connect(env["DATABASE_URL"], autocommit=True)


def _columns(conn: psycopg.Connection, table: str) -> set[str]:  # type: ignore[type-arg]
    rows = conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))
    return {r[0] for r in rows.fetchall()}


@provider_state("a product with id {id} exists")
def product_exists(id: int, env: dict[str, str], name: str = "Espresso cup", description: str = "Porcelain, 80 ml",
                   price_cents: int = 1200) -> dict[str, int]:
    """The product with that id, with these values (params of the state override them).  The shop's
    schema is changing (stock moves to the inventory service): a `stock` column is filled if there."""
    values: dict[str, object] = {"id": id, "name": name, "description": description, "price_cents": price_cents}
    with _connect(env) as conn:
        if "stock" in _columns(conn, "products"):
            values["stock"] = 25
        names = ", ".join(values)
        updates = ", ".join(f"{k} = EXCLUDED.{k}" for k in values if k != "id")
        conn.execute(f"INSERT INTO products ({names}) OVERRIDING SYSTEM VALUE VALUES "
                     f"({', '.join(['%s'] * len(values))}) ON CONFLICT (id) DO UPDATE SET {updates}",
                     tuple(values.values()))
    return {"id": id}


@provider_state("no products exist")
def no_products(env: dict[str, str]) -> None:
    """An empty catalogue (orders keep their items: the product reference becomes NULL)."""
    with _connect(env) as conn:
        conn.execute("DELETE FROM products")


@provider_state("a user with email {email} exists")
def user_exists(email: str, env: dict[str, str], url: str, name: str = "Bob") -> dict[str, object]:
    """The user, with a known password; the answer carries a real access token from POST /auth/login,
    which the pact's requests use through `fromProviderState("Bearer ${token}")`."""
    password_hash = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    with _connect(env) as conn:
        row = conn.execute(
            "INSERT INTO users (email, name, password_hash) VALUES (%s, %s, %s)"
            " ON CONFLICT (email) DO UPDATE SET name = EXCLUDED.name, password_hash = EXCLUDED.password_hash"
            " RETURNING id", (email.lower(), name, password_hash)).fetchone()
    assert row is not None
    login = httpx.post(f"{url}/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    login.raise_for_status()
    return {"token": login.json()["access_token"], "id": row[0]}
