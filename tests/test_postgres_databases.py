"""One PostgreSQL server, several databases: each with its own init, seed and per-test reset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stackrig import ConfigError, Stack, load_stack

STACK = """
[services.db]
kind = "postgres"
database = "shop"
init = ["shop.sql"]
databases = { inventory = { init = ["inventory.sql"], seed = ["stock.sql"] } }
export = { DATABASE_URL = "${url}", INVENTORY_DATABASE_URL = "${url.inventory}" }

[services.app]
kind = "process"
command = "echo $INVENTORY_DATABASE_URL > inventory-url.txt && exec sleep 60"
depends_on = ["db"]
port = false
"""


def write_sql(folder: Path) -> None:
    (folder / "shop.sql").write_text("CREATE TABLE orders (id serial PRIMARY KEY, total int);\n")
    (folder / "inventory.sql").write_text("CREATE TABLE stock (product int PRIMARY KEY, available int);\n")
    (folder / "stock.sql").write_text("INSERT INTO stock VALUES (1, 10), (2, 0);\n")


def test_each_database_has_its_own_baseline(stackfile: Callable[[str], Path]) -> None:
    path = stackfile(STACK)
    write_sql(path.parent)
    with Stack.load(path) as rig:
        assert rig.sql("db").execute("SELECT count(*) FROM orders").fetchone() == (0,)
        inv = rig.sql("db", "inventory")
        assert inv.execute("SELECT sum(available) FROM stock").fetchone() == (10,)
        url = rig["db"].attributes["url.inventory"]
        assert url.endswith("/inventory") and rig.env["INVENTORY_DATABASE_URL"] == url
        assert rig.sql("db", "shop") is rig.sql("db")  # the main database by name is the main connection
        assert (path.parent / "inventory-url.txt").read_text().strip() == url  # exported to dependents


def test_reset_puts_every_database_back_and_slices_them_per_worker(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=STACK)
    write_sql(pytester.path)
    pytester.makepyfile(test_two="""
        import pytest

        @pytest.mark.parametrize("round", range(4))
        def test_writes_both(rig, round):
            shop, inv = rig.sql("db"), rig.sql("db", "inventory")
            assert shop.execute("SELECT count(*) FROM orders").fetchone() == (0,)
            assert inv.execute("SELECT available FROM stock WHERE product = 1").fetchone() == (10,)
            shop.execute("INSERT INTO orders (total) VALUES (5)")
            inv.execute("UPDATE stock SET available = available - 3 WHERE product = 1")
            inv.execute("INSERT INTO stock VALUES (%s, 1)", (100 + round,))
    """)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=4)
    pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2").assert_outcomes(passed=4)


def test_factories_and_sessions_on_another_database(pytester: pytest.Pytester) -> None:
    """`rig.factory(F, database=...)` commits into the other database (the app sees the rows) and the
    per-test reset removes them; `rig.session(database=...)` rolls back."""
    pytester.makefile(".toml", stackrig=STACK)
    write_sql(pytester.path)
    pytester.makepyfile(test_factories="""
        import factory, pytest
        from sqlalchemy import Integer
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

        class Base(DeclarativeBase):
            pass

        class Stock(Base):
            __tablename__ = "stock"
            product: Mapped[int] = mapped_column(Integer, primary_key=True)
            available: Mapped[int] = mapped_column(Integer)

        class StockFactory(factory.alchemy.SQLAlchemyModelFactory):
            class Meta:
                model = Stock
            product = factory.Sequence(lambda n: 1000 + n)
            available = 7

        @pytest.mark.parametrize("round", range(2))
        def test_factory(rig, round):
            inv = rig.sql("db", "inventory")
            assert inv.execute("SELECT count(*) FROM stock").fetchone() == (2,)  # the seed only
            made = rig.factory(StockFactory, database="inventory")(available=3 + round)
            assert inv.execute("SELECT available FROM stock WHERE product = %s", (made.product,)).fetchone() \\
                == (3 + round,)
            assert rig.engine("db", database="inventory").url.database == "inventory"

        def test_session(rig):
            with rig.session("db", database="inventory") as s:
                s.add(Stock(product=5, available=1))
                s.commit()
                assert s.get(Stock, 5) is not None
            assert rig.sql("db", "inventory").execute("SELECT count(*) FROM stock").fetchone() == (2,)
    """)
    pytester.runpytest_subprocess("-p", "no:randomly").assert_outcomes(passed=3)


def test_database_names_are_checked(stackfile: Callable[[str], Path]) -> None:
    with pytest.raises(ConfigError) as info:
        load_stack(stackfile('[services.db]\nkind = "postgres"\ndatabase = "shop"\n'
                             'databases = { shop = {} }\n'))
    assert "[services.db.databases] database 'shop' is already this server's main database" in str(info.value)
    with pytest.raises(ConfigError, match="database name 'bad-name' is not valid"):
        load_stack(stackfile('[services.db]\nkind = "postgres"\ndatabases = { "bad-name" = {} }\n'))
    with pytest.raises(ConfigError, match=r"a postgres service has no attribute 'url.stock'(.|\n)*url.inventory"):
        load_stack(stackfile('[services.db]\nkind = "postgres"\ndatabases = { inventory = {} }\n'
                             'export = { X = "${url.stock}" }\n'))
    with pytest.raises(ConfigError, match=r"'clone' is not one of 'reset', 'transaction', 'none'"):
        load_stack(stackfile('[services.db]\nkind = "postgres"\ndatabases = { inventory = { isolation = "clone" } }\n'))
