"""`stackrig import compose FILE`, and compose files through every command once the CLI is wired."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from compose_support import line_of
from helpers import run_cli

from stackrig.cli.import_ import command

Compose = Callable[..., Path]


def _wired() -> bool:
    from stackrig.cli._verbs import VERBS

    return any(name == "import" for name, *_ in VERBS)


def _loads_compose() -> bool:
    import tempfile

    from stackrig.errors import ConfigError
    from stackrig.services import load_stack

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "docker-compose.yml"
        p.write_text("services:\n  cache:\n    image: redis:7\n")
        try:
            return load_stack(p).services["cache"].kind == "redis"
        except ConfigError:
            return False


needs_verb = pytest.mark.skipif(not _wired(), reason="`import` is not in cli/_verbs.py yet (see the compose report)")
needs_dispatch = pytest.mark.skipif(not _loads_compose(),
                                    reason="services.load_stack does not read compose files yet (see the report)")


def test_import_writes_the_commented_stackrig_toml_beside_the_file(project: Callable[[str], Path]) -> None:
    root = project("orders")
    runner = CliRunner()
    done = runner.invoke(command(), ["compose", str(root / "docker-compose.test.yml")], env={"POSTGRES_PASSWORD": ""})
    assert done.exit_code == 0, done.output
    text = (root / "stackrig.toml").read_text()
    assert "wrote" in done.output and "(4 services)" in done.output
    assert text.startswith("# stackrig.toml — the services of docker-compose.test.yml")
    assert "# Written by `stackrig import compose docker-compose.test.yml`" in text
    line = line_of(root / "docker-compose.test.yml", "test-database:")
    assert f'[services.test-database]\n# image postgres:13 (docker-compose.test.yml:{line}) → kind "postgres"' in text
    again = runner.invoke(command(), ["compose", str(root / "docker-compose.test.yml")])
    assert again.exit_code != 0 and "already exists" in str(again.exception)
    printed = runner.invoke(command(), ["compose", str(root / "docker-compose.test.yml"), "-o", "-"])
    assert printed.exit_code == 0 and printed.output.startswith("# stackrig.toml")


def test_import_refuses_another_folder_and_reports_errors(compose: Compose, tmp_path: Path) -> None:
    path = compose("services:\n  cache:\n    image: redis:7\n")
    other = tmp_path / "elsewhere"
    other.mkdir()
    done = CliRunner().invoke(command(), ["compose", str(path), "-o", str(other / "stackrig.toml")])
    assert done.exit_code != 0 and "not beside" in str(done.exception)
    bad = compose("services:\n  search:\n    image: elasticsearch:8.11.0\n", name="bad.yml")
    done = CliRunner().invoke(command(), ["compose", str(bad)])
    assert "Elasticsearch" in str(done.exception) and f"{bad}:3:" in str(done.exception)


def test_import_with_a_profile(compose: Compose) -> None:
    path = compose("""
        services:
          cache:
            image: redis:7
          debug:
            image: python:3.12
            command: python -m http.server
            profiles: [debug]
        """)
    done = CliRunner().invoke(command(), ["compose", str(path), "--profile", "debug", "-o", "-"])
    assert done.exit_code == 0 and "[services.debug]" in done.output
    done = CliRunner().invoke(command(), ["compose", str(path), "-o", "-"], env={"COMPOSE_PROFILES": ""})
    assert "[services.debug]" not in done.output and "#   debug (image python:3.12): profiles debug" in done.output


@needs_verb
def test_the_import_verb(project: Callable[[str], Path]) -> None:
    root = project("inventory")
    done = run_cli("import", "compose", "docker-compose.yml", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "stackrig.toml").is_file()


@needs_dispatch
@pytest.mark.slow
def test_stackrig_run_with_a_compose_file(project: Callable[[str], Path]) -> None:
    root = project("inventory")
    code = "import os, urllib.request; print(urllib.request.urlopen(os.environ['WEB_URL'] + '/items').read().decode())"
    done = run_cli("-f", "docker-compose.yml", "run", "--", sys.executable, "-c", code, cwd=root,
                   env={"PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"apple": 3' in done.stdout
