"""Test-data factories (factory_boy), bound to the stack's database with ``rig.factory(...)``.

The seeds' ``TestDataFactory`` / ``CrossStackDataFactory`` patterns: consistent users, products,
orders whose items and payments reference each other and add up.  Rows are committed, so the API
under test sees them; stackrig's per-test reset removes them, so nothing needs cleaning up.

A product's stock is the inventory service's, in the other database: a test that orders a factory
product stocks it with the ``stock_product`` fixture (``stock_product(ProductFactory(), 10)``).
"""

from __future__ import annotations

import bcrypt
import factory
from factory.alchemy import SQLAlchemyModelFactory
from models import Order, OrderItem, Payment, Product, User

PASSWORD = "correct horse battery"
_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()  # computed once, cost 4


class _Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_persistence = "commit"


class UserFactory(_Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"customer{n}@shop.example")
    name = factory.Faker("name")
    password_hash = _HASH  # every factory user logs in with PASSWORD


class ProductFactory(_Base):
    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Product {n}")
    price_cents = 1500
    weight_g = 500


class OrderFactory(_Base):
    """An order of `items_count` line items, `quantity` of each; subtotal_cents is the sum of the
    items it made, total_cents that plus `shipping_cents`.

    The first line is of `product` (``product__price_cents=700`` sets its price), each further line
    of a product of its own, created by ProductFactory (bound with the rest by ``rig.factory``):
    the API merges lines of one product, so no order it makes has two.  The items are built here
    and inserted with the order (the relationship's cascade), in the same commit; computing the
    total from them means the two cannot disagree, whatever `items_count` and `quantity` are.
    """

    class Meta:
        model = Order
        exclude = ("items_count", "quantity", "product", "products")

    items_count = 1
    quantity = 2
    product = factory.SubFactory(ProductFactory)
    products = factory.LazyAttribute(
        lambda o: [o.product, *ProductFactory.create_batch(o.items_count - 1)])
    user = factory.SubFactory(UserFactory)
    currency = "EUR"
    items = factory.LazyAttribute(
        lambda o: [OrderItemFactory.build(order=None, product=p, quantity=o.quantity) for p in o.products])
    subtotal_cents = factory.LazyAttribute(lambda o: sum(i.quantity * i.unit_price_cents for i in o.items))
    shipping_cents = 490
    total_cents = factory.LazyAttribute(lambda o: o.subtotal_cents + o.shipping_cents)


class OrderItemFactory(_Base):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product = factory.SubFactory(ProductFactory)
    product_name = factory.SelfAttribute("product.name")
    quantity = 1
    unit_price_cents = factory.SelfAttribute("product.price_cents")


class PaidOrderFactory(OrderFactory):
    """An order in status `paid` with its payment for the full amount."""

    status = "paid"
    payment = factory.RelatedFactory(
        "factories.PaymentFactory", factory_related_name="order",
        amount_cents=factory.SelfAttribute("..total_cents"), currency=factory.SelfAttribute("..currency"))


class PaymentFactory(_Base):
    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    amount_cents = factory.SelfAttribute("order.total_cents")
    currency = "EUR"
    charge_id = factory.Sequence(lambda n: f"ch_test_{n}")
