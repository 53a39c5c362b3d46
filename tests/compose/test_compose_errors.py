"""Every construct stackrig cannot run natively is an error naming the service, the image or key, the
file and line, and the fix — and every compose mistake is located like a stack-file error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from compose_support import error_of, line_of

from stackrig.compose import load_compose

Compose = Callable[..., Path]

SKIP_FIX = ("profiles", "x-stackrig: {skip: true}")


def _check(err: object, path: Path, needle: str, *words: str) -> str:
    text = str(err)
    assert f"{path}:{line_of(path, needle)}:" in text, text
    for w in words:
        assert w in text, (w, text)
    return text


@pytest.mark.parametrize("image, family", [
    ("mongo:6", "MongoDB"),
    ("bitnami/kafka:3.6", "Kafka"),
    ("docker.elastic.co/elasticsearch/elasticsearch:8.11.0", "Elasticsearch"),
    ("confluentinc/cp-zookeeper:7.5.0", "ZooKeeper"),
    ("mysql:8", "MySQL"),
])
def test_images_without_a_native_kind_name_the_service_image_engine_and_exclusions(
        compose: Compose, image: str, family: str) -> None:
    path = compose(f"""
        services:
          app:
            build: .
          store:
            image: {image}
            ports: ["1234:1234"]
        """, files={"Dockerfile": "FROM python:3.11\nCMD [\"python\", \"-m\", \"http.server\"]\n"})
    text = _check(error_of(path), path, f"image: {image}", "service 'store'", family, image,
                  "container engine", "Docker backend is future work", *SKIP_FIX, "x-stackrig: {command: ...}")
    assert "[services.store.image]" in text


def test_an_unknown_image_lists_the_images_that_run_natively(compose: Compose) -> None:
    path = compose("""
        services:
          billing:
            image: registry.example.com/acme/legacy-billing:1.4
        """)
    text = _check(error_of(path), path, "legacy-billing", "service 'billing'",
                  "image registry.example.com/acme/legacy-billing:1.4", *SKIP_FIX)
    assert "postgres" in text and "rabbitmq" in text and "wiremock/wiremock" in text


def test_an_excluded_service_may_use_anything(compose: Compose) -> None:
    path = compose("""
        services:
          cache:
            image: redis:7
          search:
            image: elasticsearch:8.11.0
            profiles: [docker]
            privileged: true
          legacy:
            image: mongo:6
            network_mode: host
            x-stackrig: {skip: true}
        """)
    loaded = load_compose(path, environ={})
    assert list(loaded.stack.services) == ["cache"]
    assert loaded.assembled.skipped == {"search": "profiles docker not active (COMPOSE_PROFILES)",
                                        "legacy": "x-stackrig: {skip: true}"}
    with pytest.raises(Exception, match="Elasticsearch"):
        load_compose(path, environ={"COMPOSE_PROFILES": "docker"})


@pytest.mark.parametrize("mode, words", [
    ("host", ["'host'", "the host's network at fixed ports"]),
    ("service:db", ["'service:db'", "shares another container's network namespace"]),
    ("container:sidecar", ["'container:sidecar'", "shares another container's network namespace"]),
])
def test_network_mode(compose: Compose, mode: str, words: list[str]) -> None:
    path = compose(f"""
        services:
          db:
            image: postgres:16
          app:
            image: python:3.11
            command: python -m http.server
            network_mode: "{mode}"
        """)
    _check(error_of(path), path, "network_mode", "service 'app'", "network_mode", *words, "allocated ports",
           "remove network_mode", *SKIP_FIX)


@pytest.mark.parametrize("key, value, what", [
    ("privileged", "true", "needs a privileged container"),
    ("devices", '["/dev/ttyUSB0:/dev/ttyUSB0"]', "maps host devices"),
    ("device_cgroup_rules", '["c 1:3 mr"]', "maps host devices"),
    ("gpus", "all", "reserves GPUs"),
    ("use_api_socket", "true", "container engine's socket"),
])
def test_keys_a_local_process_cannot_have(compose: Compose, key: str, value: str, what: str) -> None:
    path = compose(f"""
        services:
          worker:
            image: python:3.12
            command: ["python", "worker.py"]
            {key}: {value}
        """)
    _check(error_of(path), path, f"{key}:", "service 'worker'", f"`{key}`", what, "remove it", *SKIP_FIX)


def test_privileged_false_is_fine(compose: Compose) -> None:
    path = compose("""
        services:
          worker:
            image: python:3.12
            command: ["python", "-c", "print(1)"]
            privileged: false
        """)
    assert list(load_compose(path).stack.services) == ["worker"]


DOCKERFILE_RUN_ARG = """\
FROM python:3.11-slim
ARG INSTALL_DEV=false
WORKDIR /app
COPY . .
RUN if [ "$INSTALL_DEV" = "true" ]; then pip install -r requirements-dev.txt; fi
CMD ["python", "-m", "http.server", "8000"]
"""


def test_a_build_arg_only_run_steps_use_cannot_be_honoured(compose: Compose) -> None:
    path = compose("""
        services:
          api:
            build:
              context: .
              args:
                INSTALL_DEV: "true"
        """, files={"Dockerfile": DOCKERFILE_RUN_ARG})
    _check(error_of(path), path, "INSTALL_DEV", "service 'api'", "build arg INSTALL_DEV", "only by RUN steps",
           "cannot honour", "x-stackrig: {build:", "x-stackrig: {command: ...}",
           "[services.api.build.args.INSTALL_DEV]")


def test_a_local_build_step_acknowledges_such_an_arg(compose: Compose) -> None:
    path = compose("""
        services:
          api:
            build:
              context: .
              args:
                INSTALL_DEV: "true"
            x-stackrig:
              build: "true"
        """, files={"Dockerfile": DOCKERFILE_RUN_ARG})
    spec = load_compose(path).stack.services["api"]
    assert spec.build == "true"  # type: ignore[attr-defined]


def test_a_remote_build_context(compose: Compose) -> None:
    path = compose("""
        services:
          api:
            build: https://github.com/acme/api.git#main
        """)
    _check(error_of(path), path, "build:", "service 'api'", "remote build context", "clone it")


def test_a_missing_dockerfile_and_a_missing_target(compose: Compose) -> None:
    path = compose("""
        services:
          api:
            build:
              context: ./api
              dockerfile: Dockerfile.prod
        """, files={"api/Dockerfile": "FROM python:3.11\n"})
    _check(error_of(path), path, "build:", "service 'api'", "Dockerfile.prod does not exist")
    path = compose("""
        services:
          api:
            build:
              context: ./api
              target: runtime
        """, files={"api/Dockerfile": "FROM python:3.11 AS base\nFROM base AS test\nCMD [\"python\"]\n"})
    _check(error_of(path), path, "target:", "no stage 'runtime'", "named stages: base, test")


def test_a_command_this_machine_cannot_run_says_to_add_x_stackrig_command(compose: Compose) -> None:
    path = compose("""
        services:
          web:
            build: .
            ports: ["3000:3000"]
        """, files={"Dockerfile": "FROM ruby:3.3\nWORKDIR /app\nCOPY . .\nRUN bundle install\n"
                                  "CMD [\"not-a-real-tool-here\", \"exec\", \"puma\"]\n"})
    _check(error_of(path), path, "build:", "service 'web'", "`not-a-real-tool-here`", "not installed here",
           "RUN steps are not executed", "x-stackrig: {command: ...}")


def test_a_binary_the_image_builds_suggests_the_local_build(compose: Compose) -> None:
    dockerfile = """\
        FROM golang:1.22 AS build
        WORKDIR /src
        COPY . .
        RUN go build -o /out/server ./cmd/server

        FROM gcr.io/distroless/base-debian12
        COPY --from=build /out/server /server
        ENTRYPOINT ["/server"]
        """
    path = compose("""
        services:
          api:
            build: .
        """, files={"Dockerfile": dockerfile})
    _check(error_of(path), path, "build:", "service 'api'", "/server", "the image build makes",
           "x-stackrig: {build: \"${go} build", "RUN go build -o /out/server ./cmd/server")


def test_a_python_entry_point_that_is_not_installed(compose: Compose) -> None:
    import importlib.util

    if importlib.util.find_spec("granian") is not None:
        pytest.skip("granian is installed here")
    path = compose("""
        services:
          api:
            build: .
        """, files={"Dockerfile": "FROM python:3.12\nCOPY . /app\nWORKDIR /app\n"
                                  "CMD [\"granian\", \"--interface\", \"asgi\", \"app:app\"]\n"})
    _check(error_of(path), path, "build:", "service 'api'", "runs granian", "not installed in this Python",
           "pip install granian", "x-stackrig: {command: ...}")


def test_an_address_at_a_port_stackrig_does_not_serve(compose: Compose) -> None:
    path = compose("""
        services:
          mail:
            image: mailhog/mailhog
          app:
            image: python:3.12
            command: python -m http.server
            environment:
              MAIL_API: http://mail:8025/api/v2/messages
        """)
    _check(error_of(path), path, "MAIL_API", "service 'app'", "port 8025 of service 'mail'",
           "which stackrig does not serve", "1025", "x-stackrig.env", "[services.app.environment.MAIL_API]")


def test_a_language_image_without_a_command(compose: Compose) -> None:
    path = compose("""
        services:
          tools:
            image: python:3.12-slim
        """)
    _check(error_of(path), path, "image: python", "service 'tools'", "language image without `command`",
           "x-stackrig: {command: ...}")


def test_neither_image_nor_build(compose: Compose) -> None:
    path = compose("""
        services:
          ghost:
            environment: {A: "1"}
        """)
    _check(error_of(path), path, "ghost:", "service 'ghost' has neither `image` nor `build`")


def test_include_is_refused(compose: Compose) -> None:
    path = compose("""
        include:
          - other.yml
        services:
          cache:
            image: redis
        """)
    _check(error_of(path), path, "include:", "top-level `include`", "merge the included services")


def test_unknown_keys_with_a_suggestion(compose: Compose) -> None:
    path = compose("""
        services:
          db:
            image: postgres:16
            enviroment:
              POSTGRES_DB: app
        """)
    _check(error_of(path), path, "enviroment", "unknown service key 'enviroment' (did you mean 'environment'?)",
           "[services.db.enviroment]")
    path = compose("""
        servcies:
          db:
            image: postgres:16
        """)
    _check(error_of(path), path, "servcies", "unknown top-level key 'servcies' (did you mean 'services'?)")
    path = compose("""
        services:
          db:
            image: postgres:16
            x-stackrig:
              comand: postgres
        """)
    _check(error_of(path), path, "comand", "unknown x-stackrig key 'comand' (did you mean 'command'?)")


def test_wrong_types_and_bad_values(compose: Compose) -> None:
    path = compose("""
        services:
          api:
            image: python:3.12
            command: python app.py
            ports: "8000:8000"
        """)
    _check(error_of(path), path, "ports:", "[services.api.ports] expected a list, found the string '8000:8000'")
    path = compose("""
        services:
          api:
            image: python:3.12
            command: python app.py
            ports:
              - "80a0:8000"
        """)
    _check(error_of(path), path, "80a0", "host port '80a0' is not a port")
    path = compose("""
        services:
          db:
            image: postgres:16
          api:
            image: python:3.12
            command: python app.py
            depends_on:
              db:
                condition: service_ready
        """)
    _check(error_of(path), path, "depends_on:", "condition 'service_ready' is not one of service_started, "
           "service_healthy, service_completed_successfully")
    path = compose("""
        services:
          api:
            image: python:3.12
            command: python app.py
            depends_on: [db]
        """)
    _check(error_of(path), path, "depends_on", "depends on unknown service 'db'")
    path = compose("""
        services:
          api:
            image: python:3.12
            command: python app.py
            healthcheck:
              test: ["CMD", "true"]
              interval: soon
        """)
    _check(error_of(path), path, "healthcheck:", "`interval`: 'soon' is not a duration")


def test_yaml_syntax_errors_and_duplicate_keys_are_located(compose: Compose) -> None:
    path = compose("services:\n  db:\n    image: postgres:16\n    ports: [5432\n  cache:\n    image: redis\n")
    assert "YAML syntax error" in str(error_of(path))
    assert f"{path}:" in str(error_of(path))
    path = compose("services:\n  db:\n    image: postgres:16\n    image: postgres:15\n")
    assert f"{path}:4: [services.db.image] key 'image' is defined twice (first on line 3)" in str(error_of(path))


def test_a_required_variable(compose: Compose) -> None:
    path = compose("""
        services:
          db:
            image: postgres:16
            environment:
              POSTGRES_PASSWORD: ${DB_PASSWORD:?set DB_PASSWORD for the test database}
        """)
    _check(error_of(path, environ={}), path, "DB_PASSWORD", "required variable DB_PASSWORD is not set",
           "set DB_PASSWORD for the test database", "export DB_PASSWORD=")


def test_a_missing_env_file(compose: Compose) -> None:
    path = compose("""
        services:
          api:
            image: python:3.12
            command: python app.py
            env_file: .env.ci
        """)
    _check(error_of(path), path, "env_file", "env_file '.env.ci' not found", "required: false")


def test_a_stack_file_mistake_in_x_stackrig_is_located_in_the_compose_file(compose: Compose) -> None:
    path = compose("""
        services:
          api:
            image: python:3.12
            command: python -m http.server
            x-stackrig:
              ready: {http: health}
        """)
    text = _check(error_of(path), path, "ready:", "service 'api'", "must start with '/'", "(stackrig key `ready")
    assert "[services.api.x-stackrig.ready]" in text


def test_strict_versions_refuses_another_version(compose: Compose) -> None:
    from stackrig.compose._load import _prefers

    if _prefers("postgres"):
        pytest.skip("the providers take the tag as a preference: checked when the stack runs (test_compose_run)")
    path = compose("""
        services:
          db:
            image: postgres:9.6
        """)
    loaded = load_compose(path)
    if not any("asks for postgres 9.6" in w for w in loaded.stack.warnings):
        pytest.skip("no PostgreSQL binary found here, or 9.6 is installed")
    _check(error_of(path, strict_versions=True), path, "image:", "service 'db'", "image postgres:9.6 asks for "
           "postgres 9.6, which is not available here", "found:", "without --strict-versions")


def test_wiremock_mappings_mounted_under_another_name(compose: Compose) -> None:
    path = compose("""
        services:
          payments:
            image: wiremock/wiremock:3.3.1
            volumes:
              - ./stubs:/home/wiremock/mappings
        """, files={"stubs/charge.json": "{}"})
    _check(error_of(path), path, "./stubs", "service 'payments'", "is mounted at /home/wiremock/mappings",
           "rename the folder to mappings/")


def test_toxiproxy_config_that_is_not_mounted(compose: Compose, toxiproxy_kind: None) -> None:
    path = compose("""
        services:
          toxiproxy:
            image: ghcr.io/shopify/toxiproxy:2.9.0
            command: ["-host=0.0.0.0", "-config", "/config/toxiproxy.json"]
        """)
    _check(error_of(path), path, "command:", "service 'toxiproxy'", "-config /config/toxiproxy.json is not a "
           "mounted file", "bind-mount")
