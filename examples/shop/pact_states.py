"""Provider states of the shop API, for ``stackrig pact verify --provider api`` (and the
``pact_verify`` fixture): the stack file names this module (``[stackrig] pact_states``).

Each state writes real rows through the stack's ``DATABASE_URL`` (psycopg); stackrig resets both
databases to their seeds and flushes Redis (the product cache) before every interaction, so a state
only adds what it names.  From the shop's folder::

    npm --prefix web ci && npm --prefix web test        # the web client's consumer test writes the pact
    stackrig pact verify pacts --provider api
"""

from __future__ import annotations

import bcrypt
import httpx
import psycopg

from stackrig.pact import provider_state

PASSWORD = "pact-password-0123"  # the password every state's user gets (only bcrypt's hash is stored)


def _connect(env: dict[str, str]) -> psycopg.Connection:  # type: ignore[type-arg]
    return psycopg.connect(env["DATABASE_URL"], autocommit=True)


@provider_state("a product with id {id} exists")
def product_exists(id: int, env: dict[str, str], name: str = "Espresso cup", description: str = "Porcelain, 80 ml",
                   price_cents: int = 1200, available: int = 25) -> dict[str, int]:
    """The product with that id, with these values (params of the state override them), and its stock
    in the inventory service's database."""
    with _connect(env) as conn:
        conn.execute("INSERT INTO products (id, name, description, price_cents) OVERRIDING SYSTEM VALUE"
                     " VALUES (%s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name,"
                     " description = EXCLUDED.description, price_cents = EXCLUDED.price_cents",
                     (id, name, description, price_cents))
    with psycopg.connect(env["INVENTORY_DATABASE_URL"], autocommit=True) as inventory:
        inventory.execute("INSERT INTO stock (product_id, available) VALUES (%s, %s) ON CONFLICT (product_id)"
                          " DO UPDATE SET available = EXCLUDED.available, reserved = 0", (id, available))
    return {"id": id}


@provider_state("no products exist")
def no_products(env: dict[str, str]) -> None:
    """An empty catalogue (orders keep their items: the product reference becomes NULL), and no stock."""
    with _connect(env) as conn:
        conn.execute("DELETE FROM products")
    with psycopg.connect(env["INVENTORY_DATABASE_URL"], autocommit=True) as inventory:
        inventory.execute("DELETE FROM stock")


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
