"""The shop's tables as SQLAlchemy models, for the test side (factories and direct checks).

The app itself uses plain SQL; tests map the same tables to build consistent data quickly.  (The
inventory's tables live in the other database; tests stock a factory's product there with the
``stock_product`` fixture.)
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String, unique=True)
    name: Mapped[str]
    password_hash: Mapped[str]
    created_at: Mapped[datetime] = mapped_column(server_default="now()")
    orders: Mapped[list[Order]] = relationship(back_populates="user", passive_deletes=True)


class Product(Base):
    __tablename__ = "products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    description: Mapped[str] = mapped_column(default="")
    price_cents: Mapped[int]
    weight_g: Mapped[int] = mapped_column(default=500)
    image_key: Mapped[str | None] = mapped_column(default=None)
    image_type: Mapped[str | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column(default=1)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(default="pending")
    reason: Mapped[str | None] = mapped_column(default=None)
    subtotal_cents: Mapped[int]
    shipping_cents: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(default="EUR")
    country: Mapped[str] = mapped_column(default="DE")
    user: Mapped[User] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", passive_deletes=True)
    payment: Mapped[Payment | None] = relationship(back_populates="order", passive_deletes=True)


class OrderItem(Base):
    __tablename__ = "order_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    product_name: Mapped[str]
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]
    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product | None] = relationship()


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    amount_cents: Mapped[int]
    currency: Mapped[str]
    charge_id: Mapped[str | None]
    order: Mapped[Order] = relationship(back_populates="payment")
