"""Per-test isolation through the plugin: reset in place, clone, blocked resets, Redis."""

from __future__ import annotations

import pytest

SCHEMA = "CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\nINSERT INTO items (name) VALUES ('seed');\n"


def stack(isolation: str, extra: str = "") -> str:
    return f"""
[services.db]
kind = "postgres"
init = ["schema.sql"]
isolation = "{isolation}"
reset_timeout = 1
{extra}
[services.cache]
kind = "redis"
"""


def test_reset_puts_every_test_back_to_the_baseline(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=stack("reset"))
    pytester.makefile(".sql", schema=SCHEMA)
    pytester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("n", range(5))
        def test_writes(rig, n):
            db = rig.sql("db")
            assert db.execute("SELECT array_agg(name ORDER BY id) FROM items").fetchone() == (["seed"],)
            assert db.execute("INSERT INTO items (name) VALUES ('x') RETURNING id").fetchone() == (2,)
            db.execute("UPDATE items SET name = 'changed' WHERE id = 1")
            assert rig.redis("cache").dbsize() == 0
            rig.redis("cache").set("k", n)
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=5)


def test_without_isolation_data_leaks(pytester: pytest.Pytester) -> None:
    """The control experiment: the same tests fail when isolation is off."""
    pytester.makefile(".toml", stackrig=stack("none").replace('kind = "redis"', 'kind = "redis"\nisolation = "none"'))
    pytester.makefile(".sql", schema=SCHEMA)
    pytester.makepyfile("""
        import pytest

        @pytest.mark.parametrize("n", range(2))
        def test_writes(rig, n):
            db = rig.sql("db")
            assert db.execute("SELECT count(*) FROM items").fetchone() == (1,)
            db.execute("INSERT INTO items (name) VALUES ('x')")
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1)


def test_clone_gives_each_test_its_own_database(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=stack("clone"))
    pytester.makefile(".sql", schema=SCHEMA)
    pytester.makepyfile("""
        import pytest
        urls = []

        @pytest.mark.parametrize("n", range(3))
        def test_clone(rig, n):
            url = rig["db"].url
            assert url not in urls
            urls.append(url)
            db = rig.sql("db")
            name = db.execute("SELECT current_database()").fetchone()[0]
            assert "_t_" in name and url.endswith("/" + name)
            assert db.execute("SELECT count(*) FROM items").fetchone() == (1,)
            db.execute("INSERT INTO items (name) VALUES ('x')")
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3)


def test_a_blocked_reset_names_the_test_and_the_blocker_and_the_next_test_is_clean(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", stackrig=stack("reset"))
    pytester.makefile(".sql", schema=SCHEMA)
    pytester.makepyfile("""
        import psycopg
        leaked = []

        def test_1_leaves_a_transaction_open(rig):
            conn = psycopg.connect(rig["db"].url)   # not autocommit: a transaction stays open
            conn.execute("UPDATE items SET name = 'locked' WHERE id = 1")
            leaked.append(conn)

        def test_2_starts_clean(rig):
            db = rig.sql("db")
            assert db.execute("SELECT name FROM items").fetchall() == [("seed",)]
    """)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2, errors=1)
    out = result.stdout.str()
    assert "ERROR at teardown of test_1_leaves_a_transaction_open" in out
    assert "test_a_blocked_reset_names_the_test_and_the_blocker_and_the_next_test_is_clean.py::" \
           "test_1_leaves_a_transaction_open" in out
    assert "UPDATE items SET name = 'locked' WHERE id = 1" in out
    assert "pid " in out
