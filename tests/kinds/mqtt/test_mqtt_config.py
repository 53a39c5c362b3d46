"""`kind = "mqtt"`: stack-file mistakes name the file, line and key; providers; doctor; formats."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import run_cli
from mqtt_support import needs_mosquitto

from stackrig import ConfigError, ProviderNotFound, load_stack
from stackrig.kinds.mqtt import MqttService
from stackrig.kinds.mqtt._service import mosquitto_password_line
from stackrig.kinds.mqtt._spec import filter_problem


def error_for(stackfile: Callable[[str], Path], text: str) -> ConfigError:
    path = stackfile(text)
    with pytest.raises(ConfigError) as info:
        load_stack(path)
    return info.value


BASE = """\
[services.app]
kind = "process"
command = "true"
port = false

[services.devices]
kind = "mqtt"
"""


@pytest.mark.parametrize(("extra", "line", "key", "message"), [
    ('brokre = "amqtt"', 8, "services.devices.brokre", "unknown key 'brokre' (did you mean 'broker'?)"),
    ('broker = "hivemq"', 8, "services.devices.broker", "'hivemq'"),
    ('password = "s3cret"', 8, "services.devices.password",
     "password is set but user is not; set both, or neither for anonymous access"),
    ('user = "dev"', 8, "services.devices.user", "user 'dev' has no password; set password = \"...\" too"),
    ('user = ""\npassword = "x"', 8, "services.devices.user", "user must not be empty"),
    ('user = "a:b"\npassword = "x"', 8, "services.devices.user", "user 'a:b' must not contain ':'"),
    ("anonymous = false", 8, "services.devices.anonymous",
     "anonymous = false but no user is set: nobody could connect; set user and password"),
    ("config = { listener = 1884 }", 8, "services.devices.config",
     "config key 'listener' is set by stackrig: the listener is 127.0.0.1 on the allocated port"),
    ("config = { password_file = \"/etc/pw\" }", 8, "services.devices.config",
     "config key 'password_file' is set by stackrig: use the service's `user` and `password` keys"),
    ("config = { plugins = \"x\" }", 8, "services.devices.config",
     "config key 'plugins' is set by stackrig: authentication comes from the service's"),
    ('config = { max_inflight_messages = "1\\n2" }', 8, "services.devices.config",
     "config key 'max_inflight_messages': a value must be one line"),
    ('keep_retained = ["status/#/x"]', 8, "services.devices.keep_retained",
     "keep_retained: 'status/#/x' is not a topic filter: '#' must be a whole level and the last one"),
    ('keep_retained = ["a+/b"]', 8, "services.devices.keep_retained", "'+' must be a whole level"),
    ('isolation = "flush"', 8, "services.devices.isolation", "'flush'"),
    ('version = "2.x"', 8, "services.devices.version", "version constraint '2.x' is not valid"),
    ("reset_timeout = 0", 8, "services.devices.reset_timeout", ">"),
    ("port = 70000", 8, "services.devices.port", "70000"),
])
def test_bad_keys_name_file_line_and_key(stackfile: Callable[[str], Path], extra: str, line: int, key: str,
                                         message: str) -> None:
    err = error_for(stackfile, BASE + extra + "\n")
    assert err.key == key
    assert err.line == line
    assert message in str(err)
    assert str(err).startswith(f"{err.file}:{line}: [{key}]")


def test_references_to_mqtt_attributes(stackfile: Callable[[str], Path]) -> None:
    stack = load_stack(stackfile(BASE.replace('command = "true"', 'command = "echo ${devices.url} '
                                              '${devices.protocol} ${devices.broker} ${devices.user}"')))
    assert stack.services["devices"].kind == "mqtt"
    err = error_for(stackfile, BASE.replace('command = "true"', 'command = "echo ${devices.uri}"'))
    assert "a mqtt service has no attribute 'uri' (did you mean 'url'?)" in str(err)
    assert "use one of: host, port, url, name, user, password, broker, protocol" in str(err)
    assert err.line == 3


def service_for(path: Path) -> MqttService:
    """The service object of `devices` (nothing is started)."""
    from stackrig.services import RunContext

    stack = load_stack(path)
    ctx = RunContext("test", stack.root, stack.path, stack.root, stack.root, stack.root,
                     watchdog=None, user=None)  # type: ignore[arg-type]
    service = MqttService(stack.services["devices"], ctx)  # type: ignore[arg-type]
    return service


@pytest.mark.parametrize(("extra", "broker"), [
    ("", "mosquitto"),  # the system's first
    ('version = "2"', "mosquitto"), ('version = "<1"', "amqtt"), ('version = ">=0.12,<1"', "amqtt"),
    ('broker = "amqtt"', "amqtt"), ('broker = "mosquitto"\nversion = "2.0"', "mosquitto"),
])
def test_broker_and_version_choose_the_provider(stackfile: Callable[[str], Path], extra: str, broker: str) -> None:
    service = service_for(stackfile(BASE + extra + "\n"))
    binary = service.find_binary()
    assert service.broker == broker
    assert binary.source == ("system" if broker == "mosquitto" else "pip: amqtt")
    assert service.attributes()["protocol"] == ("5" if broker == "mosquitto" else "3.1.1")
@needs_mosquitto
def test_no_broker_for_the_constraint_says_what_was_tried(stackfile: Callable[[str], Path]) -> None:
    service = service_for(stackfile(BASE + 'version = "9"\n'))
    with pytest.raises(ProviderNotFound) as info:
        service.find_binary()
    text = str(info.value)
    assert "service 'devices': no mosquitto or amqtt server '9' found" in text
    assert "/usr/sbin/mosquitto (system): version 2.0.11 does not satisfy '9'" in text
    assert "(pip: amqtt): version 0.12.1 does not satisfy '9'" in text
    assert "apt-get install mosquitto, or brew install mosquitto, or pip install amqtt" in text
    assert "or relax `version = '9'`" in text


def test_a_chosen_broker_that_is_missing(stackfile: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_PROVIDERS", "pip")  # no system mosquitto
    service = service_for(stackfile(BASE + 'broker = "mosquitto"\n'))
    with pytest.raises(ProviderNotFound) as info:
        service.find_binary()
    assert "service 'devices': no mosquitto server found" in str(info.value)
    assert "fix: apt-get install mosquitto, or brew install mosquitto" in str(info.value)


def test_pip_provider_forces_amqtt(stackfile: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STACKRIG_PROVIDERS", "pip")
    service = service_for(stackfile(BASE))
    binary = service.find_binary()
    assert service.broker == "amqtt" and binary.source == "pip: amqtt"
@needs_mosquitto
def test_doctor_lists_both_brokers(tmp_path: Path) -> None:
    (tmp_path / "stackrig.toml").write_text('[services.devices]\nkind = "mqtt"\n')
    done = run_cli("doctor", cwd=tmp_path, env={"STACKRIG_CACHE_DIR": str(tmp_path / "cache")})  # no cached versions
    rows = [line for line in done.stdout.splitlines() if "mosquitto" in line or "/amqtt" in line]
    assert any(line.strip().startswith("kind mqtt") and "system" in line
               and line.rstrip().endswith("/usr/sbin/mosquitto") for line in rows), done.stdout
    assert any("pip: amqtt" in line and "0.12.1" in line for line in rows), done.stdout
    mosquitto = next(line for line in rows if line.rstrip().endswith("/usr/sbin/mosquitto"))
    assert "2.0.11" in mosquitto
    assert "ok    service devices (mqtt)" in done.stdout


def test_find_broker_reads_mosquittos_version_despite_its_exit_code(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from stackrig.kinds.mqtt._service import MOSQUITTO, broker_version
    from stackrig.services import _providers

    monkeypatch.setenv("STACKRIG_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_providers, "_cache", {})
    monkeypatch.setattr(_providers, "_cache_loaded", False)
    assert str(broker_version(Path("/usr/sbin/mosquitto"), MOSQUITTO)) == "2.0.11"


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None, reason="mosquitto_passwd not installed")
def test_password_line_is_mosquitto_passwd_format(tmp_path: Path) -> None:
    """The fallback writes what `mosquitto_passwd` writes: same salt in, same line out."""
    pw = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "dev", "s3cr:et"], check=True, capture_output=True)
    user, hashed = pw.read_text().strip().split(":", 1)
    _, kind, iterations, salt, digest = hashed.split("$")
    assert (user, kind) == ("dev", "7")
    mine = mosquitto_password_line("dev", "s3cr:et", salt=base64.b64decode(salt), iterations=int(iterations))
    assert mine == pw.read_text().strip()
    assert digest == base64.b64encode(hashlib.pbkdf2_hmac("sha512", b"s3cr:et", base64.b64decode(salt),
                                                          101, 64)).decode()


@pytest.mark.parametrize(("topic_filter", "problem"), [
    ("a/b", None), ("#", None), ("+", None), ("a/+/c/#", None), ("/", None), ("$SYS/#", None),
    ("", "a topic filter must not be empty"), ("a/#/b", "'#' must be a whole level and the last one"),
    ("a#", "'#' must be a whole level"), ("a/b+", "'+' must be a whole level"),
])
def test_topic_filters(topic_filter: str, problem: str | None) -> None:
    found = filter_problem(topic_filter)
    assert (found is None) if problem is None else (found is not None and problem in found)
