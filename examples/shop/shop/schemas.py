"""Request and response bodies.  Invalid requests are answered 422 by FastAPI."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints, field_validator

__all__ = [
    "Login",
    "Order",
    "OrderIn",
    "OrderItem",
    "OrderItemIn",
    "Product",
    "ProductIn",
    "ProductUpdate",
    "Register",
    "Token",
    "User",
]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Cents = Annotated[int, Field(ge=0, le=2_000_000_000)]
Quantity = Annotated[int, Field(ge=0, le=1_000_000_000)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Register(_In):
    email: EmailStr
    password: str = Field(min_length=8)
    name: Name

    @field_validator("password")
    @classmethod
    def _fits_bcrypt(cls, value: str) -> str:
        if len(value.encode()) > 72:
            raise ValueError("password must be at most 72 bytes in UTF-8 (a bcrypt limit)")
        return value


class Login(_In):
    email: str
    password: str


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
    description: Annotated[str, Field(max_length=5000)] = ""
    price_cents: Cents
    stock: Quantity


class ProductUpdate(ProductIn):
    version: Annotated[int, Field(ge=1)]


class Product(BaseModel):
    id: int
    name: str
    description: str
    price_cents: int
    stock: int
    version: int


class OrderItemIn(_In):
    product_id: int
    quantity: Annotated[int, Field(ge=1, le=10_000)]


class OrderIn(_In):
    items: Annotated[list[OrderItemIn], Field(min_length=1, max_length=100)]


class OrderItem(BaseModel):
    product_id: int | None
    product_name: str
    quantity: int
    unit_price_cents: int


class Order(BaseModel):
    id: int
    user_id: int
    status: Literal["pending", "paid", "fulfilled"]
    total_cents: int
    currency: str
    items: list[OrderItem]
    created_at: datetime
