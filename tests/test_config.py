"""Every stack-file mistake becomes one ConfigError naming file, line, key and fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stackrig import ConfigError, load_stack

GOOD = """\
[services.db]
kind = "postgres"
version = "15"
database = "shop"
export = { DATABASE_URL = "${url}" }

[services.cache]
kind = "redis"

[services.api]
kind = "process"
command = "python -m app --port ${self.port}"
depends_on = ["db", "cache"]
env = { DB = "${db.url}" }
ready = { http = "/health" }
"""


def error_for(stackfile: Callable[[str], Path], text: str) -> ConfigError:
    path = stackfile(text)
    with pytest.raises(ConfigError) as info:
        load_stack(path)
    return info.value


def test_good_file_loads_in_dependency_order(stackfile: Callable[[str], Path]) -> None:
    stack = load_stack(stackfile(GOOD))
    assert list(stack.services) == ["db", "cache", "api"]
    api = stack.services["api"]
    assert api.depends_on == ["db", "cache"]
    assert api.ready is not None and api.ready.http == "/health"


def test_dependency_order_is_topological(stackfile: Callable[[str], Path]) -> None:
    stack = load_stack(stackfile("""
        [services.api]
        kind = "process"
        command = "true"
        depends_on = ["db"]
        [services.db]
        kind = "postgres"
    """))
    assert list(stack.services) == ["db", "api"]


def test_toml_syntax_error_names_line(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace('kind = "redis"', 'kind = "redis'))
    assert err.line == 8
    assert "TOML syntax error" in str(err)
    assert str(err).startswith(f"{err.file}:8:")


def test_unknown_key_suggests_closest(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace('version = "15"', 'versoin = "15"'))
    assert err.line == 3
    assert err.key == "services.db.versoin"
    assert "unknown key 'versoin' (did you mean 'version'?)" in str(err)
    assert "fix:" in str(err)


def test_unknown_key_in_inline_table(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace("{ http =", "{ htp ="))
    assert err.line == 15
    assert "unknown key 'htp' (did you mean 'http'?)" in str(err)


def test_wrong_type(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace('database = "shop"', "database = 5"))
    assert err.line == 4
    assert "expected a string, found an integer 5" in str(err)


def test_wrong_type_in_union(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace('command = "python -m app --port ${self.port}"', "command = 5"))
    assert err.line == 12
    assert "expected a string or an array, found an integer 5" in str(err)


def test_unknown_kind(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace('kind = "redis"', 'kind = "rediss"'))
    assert err.line == 8
    assert "unknown kind 'rediss' (did you mean 'redis'?)" in str(err)
    assert "use one of: postgres, redis, process, http-stub, smtp" in str(err)


def test_missing_kind(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace('kind = "redis"\n', 'version = "7"\n'))
    assert err.line == 7
    assert "missing key 'kind'" in str(err)


def test_unknown_dependency(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace('["db", "cache"]', '["db", "cahce"]'))
    assert err.line == 13
    assert "depends on unknown service 'cahce' (did you mean 'cache'?)" in str(err)


def test_dependency_cycle_is_named(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, """
        [services.a]
        kind = "process"
        command = "true"
        depends_on = ["b"]
        [services.b]
        kind = "process"
        command = "true"
        depends_on = ["c"]
        [services.c]
        kind = "process"
        command = "true"
        depends_on = ["a"]
    """)
    assert "dependency cycle: a -> b -> c -> a" in str(err)
    assert err.line is not None


def test_unresolved_reference_to_unknown_service(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace("${db.url}", "${dbx.url}"))
    assert err.line == 14
    assert "unresolved ${dbx.url}: no service named 'dbx' (did you mean 'db'?)" in str(err)


def test_unresolved_reference_to_unknown_attribute(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace("${db.url}", "${db.uri}"))
    assert "a postgres service has no attribute 'uri' (did you mean 'url'?)" in str(err)


def test_bad_version_constraint(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace('version = "15"', 'version = "fifteen!"'))
    assert err.line == 3
    assert "version constraint 'fifteen!' is not valid" in str(err)


def test_two_probes_refused(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD.replace('{ http = "/health" }', '{ http = "/health", tcp = true }'))
    assert "expected exactly one of http, tcp, log, command, websocket; found http, tcp" in str(err)
    assert err.key == "services.api.ready"


def test_no_services(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, "[stackrig]\nkeep_data = true\n")
    assert "declares no services" in str(err)


def test_unknown_top_level_key(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, GOOD + "\n[servics.x]\nkind = 'redis'\n")
    assert "unknown top-level key 'servics' (did you mean 'services'?)" in str(err)


def test_missing_file_says_how_to_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_stack(tmp_path / "stackrig.toml")
    assert "stack file not found" in str(info.value)
    assert "stackrig init" in str(info.value)


def test_pyproject_tool_table(stackfile: Callable[[str], Path]) -> None:
    path = stackfile("""
        [project]
        name = "x"

        [tool.stackrig.services.cache]
        kind = "redis"
        prot = 5
    """, name="pyproject.toml")
    with pytest.raises(ConfigError) as info:
        load_stack(path)
    assert info.value.line == 7  # the text starts with a blank line
    assert "unknown key 'prot' (did you mean 'port'?)" in str(info.value)
    ok = stackfile('[tool.stackrig.services.cache]\nkind = "redis"\n', name="pyproject.toml")
    assert list(load_stack(ok).services) == ["cache"]
