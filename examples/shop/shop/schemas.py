"""Request and response bodies.  Invalid requests are answered 422 by FastAPI.

Every number is bounded to what its column holds and every string refuses NUL (PostgreSQL text
cannot store it), so no input reaches the database only to fail there with a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import Path
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

__all__ = [
    "Id",
    "Login",
    "Order",
    "OrderIn",
    "OrderItem",
    "OrderItemIn",
    "OrderStatus",
    "Product",
    "ProductIn",
    "ProductUpdate",
    "Register",
    "Token",
    "User",
]

MAX_BIGINT = 2**63 - 1


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)  # after the constraints: pydantic applies a constraint before a validator only
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NoNul]
Cents = Annotated[int, Field(ge=0, le=2_000_000_000)]
Grams = Annotated[int, Field(ge=0, le=31_500)]
Quantity = Annotated[int, Field(ge=0, le=1_000_000_000)]
Country = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{2}$")]
# A path parameter that is a row id: bounded, so a huge number is a 422, not a database error.
Id = Annotated[int, Path(ge=1, le=MAX_BIGINT)]

OrderStatus = Literal["pending", "reserved", "rejected", "paid", "cancelled", "fulfilled"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Register(_In):
    email: Annotated[EmailStr, NoNul]
    password: Annotated[str, Field(min_length=8), NoNul]
    name: Name

    @field_validator("password")
    @classmethod
    def _fits_bcrypt(cls, value: str) -> str:
        if len(value.encode()) > 72:
            raise ValueError("password must be at most 72 bytes in UTF-8 (a bcrypt limit)")
        return value


class Login(_In):
    email: Annotated[str, Field(max_length=320), NoNul]
    password: Annotated[str, Field(max_length=1024), NoNul]


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class User(BaseModel):
    id: int
    email: str
    name: str
    created_at: datetime


class ProductIn(_In):
    name: Name
    description: Annotated[str, Field(max_length=5000), NoNul] = ""
    price_cents: Cents
    weight_g: Grams = 500
    stock: Quantity = 0  # the initial stock, handed to the inventory service (not kept here)


class ProductUpdate(_In):
    name: Name
    description: Annotated[str, Field(max_length=5000), NoNul] = ""
    price_cents: Cents
    weight_g: Grams = 500
    version: Annotated[int, Field(ge=1, le=2**31 - 1)]


class Product(BaseModel):
    id: int
    name: str
    description: str
    price_cents: int
    weight_g: int
    version: int
    image_url: str | None = None  # /products/{id}/image once an image was uploaded


class OrderItemIn(_In):
    product_id: Annotated[int, Field(ge=1, le=MAX_BIGINT)]
    quantity: Annotated[int, Field(ge=1, le=10_000)]


class OrderIn(_In):
    items: Annotated[list[OrderItemIn], Field(min_length=1, max_length=100)]
    country: Country = "DE"  # where it ships to: the shipping quote depends on it


class OrderItem(BaseModel):
    product_id: int | None
    product_name: str
    quantity: int
    unit_price_cents: int


class Order(BaseModel):
    id: int
    user_id: int
    status: OrderStatus
    reason: str | None = None  # why it was rejected or cancelled
    subtotal_cents: int
    shipping_cents: int
    total_cents: int
    currency: str
    country: str
    items: list[OrderItem]
    created_at: datetime
