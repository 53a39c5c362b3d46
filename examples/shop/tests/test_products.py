"""Products CRUD and validation, checked over HTTP and in the database; a new product's stock goes
to the inventory service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from _support import RegisteredUser, assert_error, unique, until

from stackrig import Rig


def test_create_read_update_delete(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser
) -> None:
    name = unique("lamp")
    created = api.post(
        "/products",
        json={"name": name, "description": "warm light", "price_cents": 4999, "weight_g": 1200, "stock": 7},
        headers=user.headers,
    )
    assert created.status_code == 201, created.text
    product = created.json()
    assert product == {
        "id": product["id"],
        "name": name,
        "description": "warm light",
        "price_cents": 4999,
        "weight_g": 1200,
        "version": 1,
        "image_url": None,
    }
    assert api.get(f"/products/{product['id']}").json() == product

    updated = api.put(
        f"/products/{product['id']}",
        json={"name": name, "description": "warmer light", "price_cents": 5499, "weight_g": 1100, "version": 1},
        headers=user.headers,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json() == {
        **product,
        "description": "warmer light",
        "price_cents": 5499,
        "weight_g": 1100,
        "version": 2,
    }
    row = db.execute(
        "SELECT description, price_cents, weight_g, version FROM products WHERE id = %s", (product["id"],)
    )
    assert row.fetchone() == ("warmer light", 5499, 1100, 2)

    deleted = api.delete(f"/products/{product['id']}", headers=user.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert_error(api.get(f"/products/{product['id']}"), 404, f"product {product['id']} not found")
    assert db.execute("SELECT count(*) FROM products WHERE id = %s", (product["id"],)).fetchone() == (0,)


def test_a_new_products_stock_goes_to_the_inventory(
    rig: Rig, api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser
) -> None:
    tap = rig.events("events", "products.>")
    created = api.post("/products", json={"name": unique("kettle"), "price_cents": 3900, "stock": 12},
                       headers=user.headers)
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    event = tap.wait_for("products.created", match={"product_id": product_id})
    assert event.body == {"product_id": product_id, "stock": 12}
    assert event.meta["stream"] == "SHOP"  # the orders' stream: the inventory sees it before any order of it
    inventory = rig.http("inventory")
    stocked = until(lambda: inventory.get(f"/stock/{product_id}").status_code == 200)
    assert stocked, "the inventory never stocked the product"
    assert inventory.get(f"/stock/{product_id}").json() == {"product_id": product_id, "available": 12, "reserved": 0}
    # the catalogue keeps no stock: the inventory's database does
    assert "stock" not in created.json()
    assert db.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'products'"
                      " AND column_name = 'stock'").fetchone() == (0,)


def test_list_contains_created_products_in_id_order(
    api: httpx.Client, make_product: Callable[..., dict[str, Any]]
) -> None:
    first, second = make_product(), make_product()
    listed = api.get("/products", params={"offset": 0, "limit": 200})
    assert listed.status_code == 200
    ids = [p["id"] for p in listed.json()]
    assert ids == sorted(ids)
    # Other tests add products concurrently, so page until both are seen.
    seen: dict[int, dict[str, Any]] = {p["id"]: p for p in listed.json()}
    offset = 200
    while second["id"] not in seen and listed.json():
        listed = api.get("/products", params={"offset": offset, "limit": 200})
        seen.update({p["id"]: p for p in listed.json()})
        offset += 200
    assert seen[first["id"]] == first and seen[second["id"]] == second


def test_missing_product_is_404(api: httpx.Client, user: RegisteredUser) -> None:
    missing = 2**62
    assert_error(api.get(f"/products/{missing}"), 404, "not found")
    body = {"name": "x", "price_cents": 1, "version": 1}
    assert_error(api.put(f"/products/{missing}", json=body, headers=user.headers), 404, "not found")
    assert_error(api.delete(f"/products/{missing}", headers=user.headers), 404, "not found")


def test_writes_need_a_token(api: httpx.Client, product: dict[str, Any], db: psycopg.Connection[Any]) -> None:
    body = {"name": "x", "price_cents": 1}
    assert_error(api.post("/products", json=body), 401)
    assert_error(api.put(f"/products/{product['id']}", json={**body, "version": 1}), 401)
    assert_error(api.delete(f"/products/{product['id']}"), 401)
    assert db.execute("SELECT name FROM products WHERE id = %s", (product["id"],)).fetchone() == (
        product["name"],
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price_cents": -1}, "body.price_cents"),
        ({"price_cents": "cheap"}, "body.price_cents"),
        ({"stock": -5}, "body.stock"),
        ({"stock": 1.5}, "body.stock"),
        ({"weight_g": 40_000}, "body.weight_g"),
        ({"name": ""}, "body.name"),
        ({"name": "nul\x00byte"}, "body.name"),
        ({"name": None}, "body.name"),
        ({"colour": "red"}, "body.colour"),
    ],
    ids=[
        "negative-price",
        "text-price",
        "negative-stock",
        "fractional-stock",
        "too-heavy",
        "empty-name",
        "nul-in-name",
        "null-name",
        "unknown-field",
    ],
)
def test_invalid_product_is_422_and_stores_nothing(
    api: httpx.Client, db: psycopg.Connection[Any], user: RegisteredUser, change: dict[str, Any], field: str
) -> None:
    name = unique("invalid")
    body = {"name": name, "price_cents": 100, "stock": 1, **change}
    response = api.post("/products", json=body, headers=user.headers)
    assert_error(response, 422, field)
    assert db.execute("SELECT count(*) FROM products WHERE name = %s", (name,)).fetchone() == (0,)


def test_update_without_version_is_422(
    api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    body = {"name": "new", "price_cents": 1}
    assert_error(api.put(f"/products/{product['id']}", json=body, headers=user.headers), 422, "body.version")


def test_stock_is_not_updated_through_the_catalogue(
    api: httpx.Client, user: RegisteredUser, product: dict[str, Any]
) -> None:
    body = {"name": product["name"], "price_cents": 1, "stock": 99, "version": product["version"]}
    assert_error(api.put(f"/products/{product['id']}", json=body, headers=user.headers), 422, "body.stock")


@pytest.mark.parametrize("product_id", ["abc", "0", str(2**63)], ids=["not-a-number", "zero", "over-bigint"])
def test_an_id_that_cannot_be_a_product_is_422(api: httpx.Client, product_id: str) -> None:
    assert_error(api.get(f"/products/{product_id}"), 422, "path.product_id")
