"""The shipping service (Go, built by stackrig from shipping/): its quotes, and the API adding them
to each order as ``shipping_cents``.  Its own unit tests are ``go test ./...`` in shipping/."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _support import RegisteredUser, assert_error, place

from stackrig import Rig


@pytest.mark.parametrize(
    ("weight_g", "country", "cents"),
    [(0, "DE", 490), (1000, "DE", 490), (2500, "DE", 690), (2500, "fr", 1490), (1000, "US", 1990)],
)
def test_quotes(rig: Rig, weight_g: int, country: str, cents: int) -> None:
    response = rig.http("shipping").get("/quote", params={"weight_g": weight_g, "country": country})
    assert response.status_code == 200
    assert response.json() == {"cents": cents}


def test_a_bad_quote_request_is_explained(rig: Rig) -> None:
    shipping = rig.http("shipping")
    for params, status, error in (
        ({"weight_g": "heavy", "country": "DE"}, 400, 'weight_g must be a whole number of grams, found "heavy"'),
        ({"weight_g": 10, "country": "Germany"}, 400,
         'country must be a two-letter ISO 3166 code such as DE, found "Germany"'),
        ({"weight_g": 40000, "country": "DE"}, 422,
         "a parcel of 40000 g is over the carrier's limit of 31500 g; split the order"),
    ):
        response = shipping.get("/quote", params=params)
        assert (response.status_code, response.json()) == (status, {"error": error})


def test_the_order_carries_the_go_services_quote(
    rig: Rig, api: httpx.Client, user: RegisteredUser, make_product: Callable[..., dict[str, Any]]
) -> None:
    light, heavy = make_product(weight_g=300, price_cents=1000), make_product(weight_g=1800, price_cents=2000)
    order = place(api, user, (light["id"], 2), (heavy["id"], 1), country="AT").json()  # 2.4 kg to the EU
    expected = rig.http("shipping").get("/quote", params={"weight_g": 2400, "country": "AT"}).json()["cents"]
    assert expected == 990 + 2 * 250
    assert (order["country"], order["shipping_cents"]) == ("AT", expected)
    assert order["total_cents"] == order["subtotal_cents"] + expected == 4000 + expected
    assert "GET /quote?weight_g=2400&country=AT -> 200" in rig["shipping"].logs()


def test_a_parcel_the_carrier_refuses_is_422(
    api: httpx.Client, user: RegisteredUser, make_product: Callable[..., dict[str, Any]]
) -> None:
    anvil = make_product(weight_g=20_000)
    assert_error(place(api, user, (anvil["id"], 2)), 422, "cannot ship this order", "over the carrier's limit")
