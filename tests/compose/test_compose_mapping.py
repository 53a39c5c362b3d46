"""How compose services become stackrig services: the kinds' images, apps, addresses, order, variables."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from compose_support import line_of

from stackrig.compose import ImageRef, import_compose, load_compose

Compose = Callable[..., Path]


def _prefers(kind: str) -> bool:
    from stackrig.compose._load import _prefers as prefers

    return prefers(kind)


def services(path: Path, **kwargs: Any) -> dict[str, Any]:
    return dict(load_compose(path, **kwargs).stack.services)


def test_the_orders_project_maps_every_service(project: Callable[[str], Path]) -> None:
    root = project("orders")
    loaded = load_compose(root / "docker-compose.test.yml", environ={})
    s = loaded.stack.services
    assert [(n, spec.kind) for n, spec in s.items()] == [
        ("test-database", "postgres"), ("cache", "redis"), ("broker", "rabbitmq"), ("api", "process")]
    db = s["test-database"]
    assert (db.database, db.user, db.password) == ("orders", "orders", "orders-secret")  # type: ignore[attr-defined]
    assert db.init == ["db/init/01-schema.sql", "bash db/init/02-seed.sh"]  # type: ignore[attr-defined]
    assert db.env["PGPORT"] == "${port}" and db.env["POSTGRES_DB"] == "orders"
    assert s["cache"].config == {"appendonly": "no", "maxmemory-policy": "allkeys-lru"}  # type: ignore[attr-defined]
    broker = s["broker"]
    assert (broker.user, broker.password, broker.management) == ("orders", "orders", True)  # type: ignore[attr-defined]
    assert broker.definitions == "rabbitmq/definitions.json"  # type: ignore[attr-defined]
    api = s["api"]
    assert api.command == ["${python}", "-m", "uvicorn", "orders.main:app", "--host", "0.0.0.0",  # type: ignore
                           "--port", "${self.port}"]
    assert api.depends_on == ["test-database", "cache", "broker"]
    assert api.ready is not None and api.ready.http == "/health"
    assert api.env["DATABASE_URL"] == "postgresql://orders:orders-secret@127.0.0.1:${test-database.port}/orders"
    assert api.env["AMQP_URL"] == "amqp://orders:orders@127.0.0.1:${broker.port}/%2F"  # `hostname: rabbit`
    assert api.env["RABBITMQ_API"] == "http://127.0.0.1:${broker.management_port}/api"
    assert api.env["APP_ENV"] == "test" and api.env["PORT"] == "${self.port}"  # build arg through ENV
    assert {"DATABASE_URL", "REDIS_URL", "AMQP_URL", "API_URL", "TEST_DATABASE_URL"} <= {
        k for spec in s.values() for k in spec.export}


def test_the_import_is_the_stack_a_run_uses(project: Callable[[str], Path]) -> None:
    """`stackrig import compose` writes the same services the compose file runs as (versions aside)."""
    from stackrig.services import load_stack

    root = project("orders")
    text = import_compose(root / "docker-compose.test.yml", environ={})
    (root / "stackrig.toml").write_text(text)
    from_toml = load_stack(root / "stackrig.toml").services
    from_compose = load_compose(root / "docker-compose.test.yml", environ={}).stack.services
    for name, spec in from_compose.items():
        assert type(spec) is type(from_toml[name])
        for field in spec.__struct_fields__:
            if field != "version":
                assert getattr(spec, field) == getattr(from_toml[name], field), (name, field)
    if _prefers("postgres"):  # the providers take the tag as a preference: the import keeps it as a key
        assert 'prefer_version = "13"  # the image\'s tag: the nearest available version runs' in text
    else:
        assert '# version = "13"  # the image\'s tag: a preference' in text
    f = root / "docker-compose.test.yml"
    cookie = line_of(f, "RABBITMQ_ERLANG_COOKIE")
    assert f"#   dropped (line {cookie}): RABBITMQ_ERLANG_COOKIE: stackrig runs one node of its own" in text
    assert (f"#   dropped (line {line_of(f, 'resources:')}): deploy.resources: dropped — resource limits do not apply "
            "to local processes") in text
    assert (f"#   dropped (line {line_of(f, 'pgdata:/var')}): /var/lib/postgresql/data: the data folder — every run "
            "starts from the prepared cluster") in text
    top_volumes = f.read_text().splitlines().index("volumes:") + 1
    assert f"#   dropped (line {top_volumes}): volumes: dropped — data volumes" in text


def test_dropped_constructs_are_said_with_their_line(compose: Compose) -> None:
    """What has no meaning for a local process is dropped with a note naming the key and line; what may change
    the run's behaviour is also a warning of the run (file:line: service 'x': ...)."""
    path = compose("""
        services:
          app:
            image: python:3.12
            command: python -m http.server
            restart: unless-stopped
            cap_add: [NET_ADMIN]
            sysctls:
              net.core.somaxconn: 1024
            extra_hosts: ["host.docker.internal:host-gateway"]
            mem_limit: 512m
            networks:
              backend:
                aliases: [web]
            volumes_from: [other]
            post_start:
              - command: echo started
          other:
            image: python:3.12
            command: python -m http.server
            volumes: [shared:/data]
        networks:
          backend: {}
        volumes:
          shared: {}
        """)
    loaded = load_compose(path)
    name = path.name
    for needle, text in (("cap_add", "cap_add: local processes get no extra Linux capabilities"),
                         ("sysctls", "sysctls: kernel parameters are not changed for local processes"),
                         ("extra_hosts", "extra_hosts: not applied to this machine's resolver"),
                         ("volumes_from", "volumes_from: volumes are not shared between local processes"),
                         ("post_start", "post_start: lifecycle hooks are not run")):
        assert any(w.startswith(f"{name}:{line_of(path, needle + ':')}: service 'app': {text}")
                   for w in loaded.stack.warnings), (needle, loaded.stack.warnings)
    toml = loaded.stack.toml  # type: ignore[attr-defined]
    for needle, text in (("restart", "restart: stackrig does not restart services"),
                         ("mem_limit", "mem_limit: resource limits do not apply to local processes"),
                         ("    networks:", "networks: dropped — services reach each other through rewritten")):
        assert f"#   dropped (line {line_of(path, needle)}): {text}" in toml, (needle, toml)
    assert f"#   dropped (line {line_of(path, 'networks:')}): networks: dropped" in toml  # the top level's too
    assert loaded.stack.services["app"].kind == "process"


def test_yaml_is_read_as_compose_reads_it(compose: Compose) -> None:
    path = compose("""
        x-env: &env
          FEATURE: on
          RETRIES: 3
        services:
          ssh:
            image: python:3.12
            command: ["python", "-m", "http.server", "22"]
            ports:
              - 22:22
            environment:
              <<: *env
              DEBUG: yes
        """)
    ssh = services(path)["ssh"]
    assert ssh.env == {"FEATURE": "on", "RETRIES": "3", "DEBUG": "yes"}  # YAML 1.2: strings, not booleans
    assert ssh.command[-1] == "${self.port}"  # 22:22 is port 22 (YAML 1.1 would read 1342)


def test_interpolation_env_files_and_lists(compose: Compose) -> None:
    path = compose("""
        services:
          api:
            image: python:3.12
            command: python -m api --name "$${HOME}"
            env_file: [.env.test, {path: .env.local, required: false}]
            environment:
              - TAG=${TAG:-latest}
              - EMPTY=${UNSET_VAR}
              - FROM_SHELL
              - LITERAL=$$HOME
        """, files={".env": "TAG=from-dotenv\n", ".env.test": "# comment\nexport A=1\nB='two words'\nC=\"x\\ny\"\n"})
    api = services(path, environ={"FROM_SHELL": "here"})["api"]
    assert api.env == {"A": "1", "B": "two words", "C": "x\ny", "TAG": "from-dotenv", "EMPTY": "",
                       "FROM_SHELL": "here", "LITERAL": "$HOME"}
    assert api.command == ["${python}", "-m", "api", "--name", "$${HOME}"]  # a literal ${ for stackrig
    loaded = load_compose(path, environ={"TAG": "shell-wins"})
    assert loaded.stack.services["api"].env["TAG"] == "shell-wins"
    assert any("UNSET_VAR is not set" in w.text for _, w in loaded.assembled.notes)


def test_extends_and_profiles(compose: Compose) -> None:
    path = compose("""
        services:
          base:
            image: python:3.12
            command: python -m worker
            environment: {QUEUE: default, LEVEL: info}
            profiles: [never]
          worker:
            extends: base
            environment: {QUEUE: high}
            profiles: []
          debug:
            extends: {file: common.yml, service: tools}
            profiles: [debug]
        """, files={"common.yml": "services:\n  tools:\n    image: python:3.12\n    command: python -m pdb\n"})
    s = services(path, environ={})
    assert list(s) == ["worker"] and s["worker"].env == {"QUEUE": "high", "LEVEL": "info"}
    assert list(services(path, environ={"COMPOSE_PROFILES": "debug"})) == ["worker", "debug"]
    assert list(services(path, environ={}, profiles=["debug", "never"])) == ["base", "worker", "debug"]


def test_addresses_host_and_port_variables(compose: Compose) -> None:
    path = compose("""
        services:
          pg:
            image: postgres:16
            container_name: orders-db
          mq:
            image: rabbitmq:3.12
            networks:
              backend:
                aliases: [queue.internal]
          app:
            image: python:3.12
            command: python app.py --bind 0.0.0.0:9000
            ports: ["9000:9000"]
            links: ["pg:database"]
            environment:
              PGHOST: orders-db
              PGPORT: "5432"
              DB_HOST: database
              BROKER: amqp://guest:guest@queue.internal/
              CALLBACK: http://host.docker.internal:7000/hook
              SELF: http://app:9000/
              UNRELATED: pg-is-not-a-host
              DB_USER: pg
          healthy:
            image: python:3.12
            command: python -m http.server 8000
            healthcheck:
              test: curl -f http://localhost:8000/ || exit 1
        """)
    s = services(path)
    app = s["app"]
    assert app.env["DB_USER"] == "pg"  # not a host variable: a user that happens to be a service's name
    healthy = s["healthy"]  # its only port is the one its healthcheck names
    assert healthy.command[-1] == "${self.port}" and healthy.ready.http == "/" and healthy.port is True
    assert app.env["PGHOST"] == "127.0.0.1" and app.env["PGPORT"] == "${pg.port}"
    assert app.env["DB_HOST"] == "127.0.0.1" and app.env["DB_PORT"] == "${pg.port}"  # added: the default port
    assert app.env["BROKER"] == "amqp://guest:guest@127.0.0.1:${mq.port}/"  # the scheme's port
    assert app.env["CALLBACK"] == "http://127.0.0.1:7000/hook"
    assert app.env["SELF"] == "http://127.0.0.1:${self.port}/"
    assert app.env["UNRELATED"] == "pg-is-not-a-host"
    assert app.depends_on == ["pg"]  # links
    assert "0.0.0.0:${self.port}" in " ".join(app.command) if isinstance(app.command, list) else app.command


def test_dockerfile_forms(compose: Compose) -> None:
    dockerfile = """\
        FROM node:20-alpine AS deps
        WORKDIR /usr/src/app
        COPY package*.json ./
        RUN npm ci

        FROM python:3.11-slim AS runtime
        ENV APP_HOME=/srv \\
            PYTHONPATH=/srv/src
        WORKDIR $APP_HOME
        COPY ./service /srv
        ENTRYPOINT ["tini", "--"]
        CMD python -m src.main --port 8000 && echo done
        EXPOSE 8000
        """
    path = compose("""
        services:
          svc:
            build:
              context: .
              target: runtime
        """, files={"Dockerfile": dockerfile, "service/src/__init__.py": "", "service/src/main.py": ""})
    svc = services(path)["svc"]
    assert svc.cwd == "service"  # WORKDIR /srv is COPY ./service /srv
    assert svc.env["PYTHONPATH"] == str(path.parent / "service" / "src")
    assert svc.command == ["/bin/sh", "-c", "${python} -m src.main --port ${self.port} && echo done"]
    assert svc.port is True  # EXPOSE 8000


def test_a_shell_form_cmd_with_port_variable(compose: Compose) -> None:
    path = compose("""
        services:
          web:
            build: ./web
            ports: ["8080:8080"]
            x-stackrig: {port: LISTEN_PORT}
        """, files={"web/Dockerfile": "FROM python:3.12\nCOPY . /app\nWORKDIR /app\n"
                                      "CMD exec python -m http.server $LISTEN_PORT\n"})
    web = services(path)["web"]
    assert web.command == "exec ${python} -m http.server $LISTEN_PORT" and web.cwd == "web"
    assert web.env["LISTEN_PORT"] == "${self.port}"


def test_x_stackrig_command_runs_anything(compose: Compose) -> None:
    path = compose("""
        services:
          legacy:
            image: acme/legacy:2
            ports: ["7000:7000"]
            x-stackrig:
              command: "${python} -m http.server $${self.port}"
              cwd: tools
              env: {MODE: "${env.HOME}"}
              ready: {tcp: true}
        """, files={"tools/.keep": ""})
    legacy = services(path)["legacy"]
    assert legacy.command == "${python} -m http.server ${self.port}" and legacy.cwd == "tools"
    assert legacy.env == {"MODE": "${env.HOME}"} and legacy.ready.tcp is True


def test_jobs_and_conditions(compose: Compose) -> None:
    path = compose("""
        services:
          db:
            image: postgres:16
          migrate:
            image: python:3.12
            command: ["python", "manage.py", "migrate"]
            depends_on: {db: {condition: service_healthy}}
          app:
            image: python:3.12
            command: python -m app
            depends_on:
              migrate: {condition: service_completed_successfully}
              optional: {condition: service_started, required: false}
          optional:
            image: mongo:7
            profiles: [full]
        """)
    s = services(path, environ={})
    job = s["migrate"]
    assert job.port is False
    if getattr(job, "job", None) is True:  # the process kind runs jobs itself
        assert job.command == ["${python}", "manage.py", "migrate"] and job.ready is None
    else:  # a wrapper that logs the exit 0, and a probe on that line
        assert job.ready.log == "^stackrig: job migrate completed successfully$"
        assert job.command[:2] == ["/bin/sh", "-c"] and job.command[4:] == ["${python}", "manage.py", "migrate"]
    assert s["app"].depends_on == ["migrate"] and s["app"].port is False


def test_the_kinds_images(compose: Compose, toxiproxy_kind: None) -> None:
    path = compose("""
        services:
          nats:
            image: nats:2.10-alpine
            command: ["-js", "-m", "8222", "--user", "app", "--pass", "pw"]
          mosquitto:
            image: eclipse-mosquitto:2
            volumes: [./mosquitto.conf:/mosquitto/config/mosquitto.conf]
          aws:
            image: localstack/localstack:3.0
            environment: {SERVICES: "s3,sqs,sns", DEFAULT_REGION: eu-west-1}
            volumes: [./init-aws.sh:/etc/localstack/init/ready.d/init-aws.sh]
          mail:
            image: axllent/mailpit
          stubs:
            image: wiremock/wiremock:3.3.1
            command: ["--port", "9090", "--verbose"]
            volumes: [./wiremock:/home/wiremock]
          chaos:
            image: shopify/toxiproxy:2.9.0
            command: ["-host=0.0.0.0", "-config", "/config/toxiproxy.json"]
            volumes: [./toxiproxy.json:/config/toxiproxy.json]
          cache:
            image: valkey/valkey:8
            command: valkey-server --port 6380 --save ""
          app:
            image: python:3.12
            command: python -m app
            environment:
              NATS_URL: nats://app:pw@nats:4222
              NATS_MONITOR: http://nats:8222/varz
              MQTT_HOST: mosquitto
              MQTT_PORT: "1884"
              AWS_ENDPOINT_URL: http://aws:4566
              SMTP_HOST: mail
              SMTP_PORT: "1025"
              PAYMENTS_URL: http://stubs:9090
              REDIS_VIA_PROXY: chaos:26379
              TOXIPROXY_URL: http://chaos:8474
              CACHE: redis://cache:6380
        """, files={
            "mosquitto.conf": "listener 1884\nallow_anonymous true\npersistence true\n",
            "init-aws.sh": "#!/bin/bash\nawslocal s3 mb s3://uploads\nawslocal sqs create-queue --queue-name jobs\n"
                           "awslocal sns create-topic --name events\n"
                           "awslocal sns subscribe --topic-arn arn:aws:sns:eu-west-1:000000000000:events \\\n"
                           "  --protocol sqs --notification-endpoint arn:aws:sqs:eu-west-1:000000000000:jobs\n"
                           "awslocal dynamodb create-table --table-name t\n",
            "wiremock/mappings/charge.json": "{}",
            "toxiproxy.json": json.dumps([{"name": "redis", "listen": "0.0.0.0:26379", "upstream": "cache:6380",
                                           "enabled": True}]),
        })
    loaded = load_compose(path)
    s = loaded.stack.services
    assert {n: spec.kind for n, spec in s.items()} == {
        "nats": "nats", "mosquitto": "mqtt", "aws": "aws", "mail": "smtp", "stubs": "http-stub",
        "chaos": "toxiproxy", "cache": "redis", "app": "process"}
    assert s["nats"].jetstream and (s["nats"].user, s["nats"].password) == ("app", "pw")  # type: ignore
    assert s["mosquitto"].anonymous is True  # type: ignore[attr-defined]
    aws = s["aws"]
    assert aws.region == "eu-west-1" and aws.buckets == ["uploads"] and aws.queues == ["jobs"]  # type: ignore
    assert [(t.name, t.subscriptions) for t in aws.topic_specs()] == [("events", ["jobs"])]  # type: ignore
    assert s["stubs"].mappings == "wiremock"  # type: ignore[attr-defined]
    assert s["chaos"].proxies == {"redis": "127.0.0.1:${cache.port}"}  # type: ignore[attr-defined]
    assert s["cache"].config == {"save": ""}  # type: ignore[attr-defined]
    env = s["app"].env
    assert env["NATS_URL"] == "nats://app:pw@127.0.0.1:${nats.port}"
    assert env["NATS_MONITOR"] == "http://127.0.0.1:${nats.monitor_port}/varz"
    assert (env["MQTT_HOST"], env["MQTT_PORT"]) == ("127.0.0.1", "${mosquitto.port}")
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:${aws.port}"
    assert (env["SMTP_HOST"], env["SMTP_PORT"]) == ("127.0.0.1", "${mail.port}")
    assert env["PAYMENTS_URL"] == "http://127.0.0.1:${stubs.port}"
    assert env["REDIS_VIA_PROXY"] == "127.0.0.1:${chaos.listen.redis}"
    assert env["TOXIPROXY_URL"] == "http://127.0.0.1:${chaos.port}"
    assert env["CACHE"] == "redis://127.0.0.1:${cache.port}"
    notes = {n.text for p in loaded.assembled.services.values() for n in p.notes}
    assert any("dynamodb create-table" in t and "not run" in t for t in notes)
    assert any("persistence" in t for t in notes)


def test_postgres_init_forms_settings_and_secrets(compose: Compose) -> None:
    path = compose("""
        services:
          db:
            image: postgis/postgis:15-3.4
            command: postgres -c max_connections=200 -c shared_buffers=64MB -N 100
            environment:
              POSTGRES_USER: gis
              POSTGRES_PASSWORD_FILE: /run/secrets/db_password
            secrets: [db_password]
            volumes:
              - ./sql/10-schema.sql:/docker-entrypoint-initdb.d/10-schema.sql
              - ./sql/05-dump.sql.gz:/docker-entrypoint-initdb.d/05-dump.sql.gz
        secrets:
          db_password:
            file: ./secrets/db_password.txt
        """, files={"sql/10-schema.sql": "SELECT 1;", "sql/05-dump.sql.gz": "", "secrets/db_password.txt": "s3cret\n"})
    loaded = load_compose(path)
    db = loaded.stack.services["db"]
    assert (db.user, db.database, db.password) == ("gis", "gis", "s3cret")  # type: ignore[attr-defined]
    assert db.init == ["gzip -dc sql/05-dump.sql.gz | psql -X -q -v ON_ERROR_STOP=1",  # type: ignore
                       "sql/10-schema.sql"]
    assert db.settings == {"max_connections": "200", "shared_buffers": "64MB"}  # type: ignore[attr-defined]
    assert any("postgis/postgis: its extensions" in w for w in loaded.stack.warnings)
    assert any("'-N'" in w for w in loaded.stack.warnings)


def test_image_references_and_tags() -> None:
    assert ImageRef.parse("docker.io/library/postgres:13.4-alpine").repository == "postgres"
    assert ImageRef.parse("public.ecr.aws/docker/library/redis:6").repository == "redis"
    r = ImageRef.parse("rabbitmq:3.12-management-alpine")
    assert (r.version, r.variants) == ("3.12", ("management", "alpine"))
    assert ImageRef.parse("localhost:5000/acme/api").repository == "acme/api"
    assert ImageRef.parse("redis@sha256:abc").tag is None and ImageRef.parse("redis:latest").version is None


def test_the_digest_names_the_same_stack(compose: Compose, monkeypatch: pytest.MonkeyPatch) -> None:
    path = compose("""
        services:
          db:
            image: postgres:16
          api:
            build: .
            environment:
              DATABASE_URL: ${DATABASE_URL:-postgresql://postgres@db/app}
        """, files={"Dockerfile": "FROM python:3.12\nCMD [\"python\", \"-m\", \"http.server\"]\n"})
    first = load_compose(path, environ={}).stack.digest
    assert load_compose(path, environ={}).stack.digest == first
    # what `stackrig run` exports to the test process does not make it another stack
    assert load_compose(path, environ={"DATABASE_URL": "postgresql://127.0.0.1:5555/app"}).stack.digest == first
    (path.parent / "Dockerfile").write_text("FROM python:3.12\nCMD [\"python\", \"-m\", \"http.server\", \"9\"]\n")
    assert load_compose(path, environ={}).stack.digest != first


def test_version_preference(monkeypatch: pytest.MonkeyPatch) -> None:
    from packaging.version import Version

    import stackrig.services as services_pkg
    from stackrig.compose._versions import prefer
    from stackrig.errors import ConfigError
    from stackrig.services import BinarySpec

    spec = BinarySpec(name="postgres", executables=("postgres",))
    found = {Path("/a/postgres"): "12.9", Path("/b/postgres"): "14.2", Path("/c/postgres"): "18.1"}
    monkeypatch.setattr(services_pkg, "candidates", lambda s, **k: [(p, "system") for p in found], raising=False)
    monkeypatch.setattr(services_pkg, "binary_version", lambda exe, s=None: Version(found[exe]), raising=False)

    class Kind:
        binary = spec

    def error(message: str, hint: str) -> ConfigError:
        return ConfigError(message, hint=hint)

    got = prefer(Kind(), "13", service="db", image="postgres:13", strict=False, error=error)
    assert got.constraint == "14.2" and "running 14.2 (system), the nearest available" in (got.warning or "")
    assert prefer(Kind(), "14", service="db", image="postgres:14", strict=False, error=error).constraint == "14"
    with pytest.raises(ConfigError, match=r"asks for postgres 13, which is not available here \(found: 12.9"):
        prefer(Kind(), "13", service="db", image="postgres:13", strict=True, error=error)


def test_the_image_index_asks_every_kind(toxiproxy_kind: None) -> None:
    from stackrig.compose._images import image_index

    index = image_index()
    assert index.command_kind == "process"
    assert {"postgres", "postgis/postgis", "redis", "valkey/valkey", "rabbitmq", "nats", "eclipse-mosquitto",
            "localstack/localstack", "mailhog/mailhog", "axllent/mailpit", "wiremock/wiremock",
            "shopify/toxiproxy"} <= set(index.images)
    assert sys.modules.get("stackrig.compose") is not None
