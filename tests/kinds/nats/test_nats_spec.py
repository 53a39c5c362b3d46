"""Every mistake in a `kind = "nats"` table is a ConfigError naming the file, the line, the key and
what to do — before anything starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stackrig import ConfigError, load_stack
from stackrig.kinds.nats import NatsSpec
from stackrig.kinds.nats._service import server_config
from stackrig.kinds.nats._spec import parse_size, subjects_overlap

HEAD = '[services.app]\nkind = "process"\ncommand = "true"\n\n[services.events]\nkind = "nats"\njetstream = true\n'


def error_for(stackfile: Callable[[str], Path], body: str) -> ConfigError:
    path = stackfile(HEAD + body)
    with pytest.raises(ConfigError) as info:
        load_stack(path)
    err = info.value
    assert err.file == path
    assert str(err).startswith(f"{path}:{err.line}: [{err.key}] ")
    return err


def test_a_good_table_loads(stackfile: Callable[[str], Path]) -> None:
    stack = load_stack(stackfile(HEAD + '''\
streams = [
  { name = "ORDERS", subjects = ["orders.>"], storage = "memory", max_age = 3600, max_bytes = "64MB" },
  { name = "PAYMENTS", subjects = ["payments.*", "refunds.*"], retention = "workqueue" },
]
consumers = [
  { stream = "ORDERS", durable = "mailer", filter_subject = "orders.created", ack_wait = 2.5 },
  { stream = "ORDERS", durable = "audit", deliver_subject = "audit.orders", deliver_group = "auditors" },
]
user = "app"
password = "s3cret"
max_payload = "2MB"
config = { max_connections = 100, write_deadline = "5s", debug = true }
export = { NATS_URL = "${url}", MON = "${monitor_url}", PW = "${password}" }
'''))
    spec = stack.services["events"]
    assert isinstance(spec, NatsSpec)
    assert [s.name for s in spec.streams] == ["ORDERS", "PAYMENTS"]
    assert spec.streams[1].effective_subjects == ["payments.*", "refunds.*"]
    assert spec.consumers[1].deliver_subject == "audit.orders"


def test_the_server_config_carries_every_setting() -> None:
    spec = NatsSpec(kind="nats", name="events", jetstream=True, user="app", password="pw", max_payload="1MB",
                    max_memory="256MB", config={"max_connections": 100, "debug": True, "write_deadline": "5s"})
    text = server_config(spec, "127.0.0.1", 4222, 8222, Path("/data/events/jetstream"))
    assert text.splitlines() == [
        'server_name: "events"', 'host: "127.0.0.1"', "port: 4222", 'http: "127.0.0.1:8222"',
        "max_payload: 1048576", "authorization {", '  user: "app"', '  password: "pw"', "}",
        "jetstream {", '  store_dir: "/data/events"', f"  max_memory_store: {256 * 1024 * 1024}", "}",
        "max_connections: 100", "debug: true", 'write_deadline: "5s"']
    token = server_config(NatsSpec(kind="nats", name="e", token="t0k"), "127.0.0.1", 1, None, Path("/x/jetstream"))
    assert "authorization {\n  token: \"t0k\"\n}" in token and "http" not in token and "jetstream" not in token


def test_unknown_stream_key_suggests_the_closest(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, 'streams = [{ name = "ORDERS", subjcts = ["orders.>"] }]\n')
    assert err.line == 8
    assert err.key == "services.events.streams.0.subjcts"
    assert "unknown key 'subjcts' (did you mean 'subjects'?)" in str(err)
    assert "fix: remove it, or use one of: allow_direct, allow_rollup" in str(err)


def test_unknown_key_in_an_array_of_tables(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, '\n[[services.events.streams]]\nname = "ORDERS"\nretension = "limits"\n')
    assert err.line == 11  # the key's own line, not the [[services.events.streams]] header
    assert err.key == "services.events.streams.0.retension"
    assert "unknown key 'retension' (did you mean 'retention'?)" in str(err)


def test_a_bad_choice_lists_the_choices(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, 'streams = [{ name = "ORDERS", retention = "forever" }]\n')
    assert (err.line, err.key) == (8, "services.events.streams.0.retention")
    assert "'forever' is not one of 'limits', 'interest', 'workqueue'" in str(err)
    assert "fix: use one of: limits, interest, workqueue" in str(err)
    err = error_for(stackfile, 'streams = [{ name = "O" }]\n'
                               'consumers = [{ stream = "O", durable = "d", ack_policy = "explict" }]\n')
    assert (err.line, err.key) == (9, "services.events.consumers.0.ack_policy")
    assert "'explict' is not one of 'explicit', 'all', 'none' (did you mean 'explicit'?)" in str(err)


def test_names_and_subjects_nats_would_refuse(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, 'streams = [{ name = "or.ders" }]\n')
    assert (err.line, err.key) == (8, "services.events.streams.0.name")
    assert "stream name 'or.ders' must not contain '.', '*', '>', '/', '\\' or whitespace" in str(err)
    err = error_for(stackfile, 'streams = [{ name = "ORDERS", subjects = ["orders.>.x"] }]\n')
    assert err.key == "services.events.streams.0.subjects.0"
    assert "subject 'orders.>.x' is not valid: '>' may only be the last token" in str(err)
    err = error_for(stackfile, 'streams = [{ name = "ORDERS", subjects = ["orders..x"] }]\n')
    assert "subject 'orders..x' is not valid: it has an empty token" in str(err)
    err = error_for(stackfile, 'streams = [{ name = "O" }]\nconsumers = [{ stream = "O", durable = "a b" }]\n')
    assert (err.line, err.key) == (9, "services.events.consumers.0.durable")
    assert "consumer name 'a b' must not contain" in str(err)
    err = error_for(stackfile, 'streams = [{ name = "O" }]\n'
                               'consumers = [{ stream = "O", durable = "d", deliver_subject = "audit.*" }]\n')
    assert "deliver_subject 'audit.*' is not valid: a push consumer delivers to one subject" in str(err)


def test_overlapping_streams_are_refused(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, 'streams = [{ name = "A", subjects = ["orders.>"] },\n'
                               '           { name = "B", subjects = ["orders.created"] }]\n')
    assert (err.line, err.key) == (8, "services.events.streams")
    assert ("streams[1]: subject 'orders.created' of stream 'B' overlaps 'orders.>' of stream 'A' (a message "
            "may be stored by one stream only)") in str(err)
    err = error_for(stackfile, 'streams = [{ name = "A" }, { name = "A", subjects = ["x"] }]\n')
    assert "streams[1]: stream 'A' is declared twice" in str(err)


def test_consumers_must_fit_a_declared_stream(stackfile: Callable[[str], Path]) -> None:
    streams = 'streams = [{ name = "ORDERS", subjects = ["orders.>"] }]\n'
    err = error_for(stackfile, streams + 'consumers = [{ stream = "ORDRES", durable = "mailer" }]\n')
    assert (err.line, err.key) == (9, "services.events.consumers")
    assert "consumers[0] (durable 'mailer'): stream 'ORDRES' is not declared in `streams` (declared: ORDERS)" \
        in str(err)
    err = error_for(stackfile, streams + 'consumers = [{ stream = "ORDERS", durable = "m", '
                                         'filter_subject = "payments.>" }]\n')
    assert ("consumers[0] (durable 'm'): filter_subject 'payments.>' is not within the subjects of stream "
            "'ORDERS' (orders.>)") in str(err)
    err = error_for(stackfile, streams + 'consumers = [{ stream = "ORDERS", durable = "m" },\n'
                                         '             { stream = "ORDERS", durable = "m" }]\n')
    assert "consumers[1] (durable 'm'): stream 'ORDERS' has two consumers with that name" in str(err)
    err = error_for(stackfile, 'consumers = [{ stream = "ORDERS", durable = "m" }]\n')
    assert "consumers[0] (durable 'm'): stream 'ORDERS' is not declared in `streams` (declared: none)" in str(err)


def test_consumer_options_that_need_each_other(stackfile: Callable[[str], Path]) -> None:
    streams = 'streams = [{ name = "O" }]\n'
    cases = {
        'deliver_policy = "by_start_sequence"': ("opt_start_seq", 'deliver_policy = "by_start_sequence" needs '
                                                                  "`opt_start_seq = N`"),
        "opt_start_seq = 5": ("opt_start_seq", 'opt_start_seq is only for deliver_policy = "by_start_sequence"'),
        'deliver_policy = "by_start_time", opt_start_time = 2024-01-01T00:00:00':
            ("opt_start_time", "opt_start_time needs a time zone (e.g. 2024-01-01T00:00:00Z)"),
        "backoff = [1, 5]": ("max_deliver", "with 2 backoff values, max_deliver must be greater than 2"),
        'deliver_group = "g"': ("deliver_group", "deliver_group needs a deliver_subject (it is for push consumers)"),
        'deliver_subject = "d", max_waiting = 5': ("max_waiting", "max_waiting is for pull consumers"),
    }
    for options, (key, message) in cases.items():
        err = error_for(stackfile, streams + f'consumers = [{{ stream = "O", durable = "d", {options} }}]\n')
        assert (err.line, err.key) == (9, f"services.events.consumers.0.{key}"), options
        assert message in str(err), options


def test_server_keys(stackfile: Callable[[str], Path]) -> None:
    err = error_for(stackfile, 'user = "app"\n')
    assert (err.line, err.key) == (8, "services.events.user")
    assert '`user` and `password` go together: `user` is set, add `password = "..."`' in str(err)
    err = error_for(stackfile, 'user = "a"\npassword = "b"\ntoken = "t"\n')
    assert (err.line, err.key) == (10, "services.events.token")
    assert "use either `token` or `user`/`password`, not both" in str(err)
    err = error_for(stackfile, 'config = { port = 4222 }\n')
    assert (err.line, err.key) == (8, "services.events.config")
    assert "config key `port` is set by stackrig: use the `port` key (or let stackrig pick a free port)" in str(err)
    err = error_for(stackfile, 'max_memory = "12 parsecs"\n')
    assert (err.line, err.key) == (8, "services.events.max_memory")
    assert "size '12 parsecs' is not valid; expected bytes (an integer) or e.g. \"512KB\", \"64MB\", \"1G\"" \
        in str(err)
    err = error_for(stackfile, 'max_payload = "65MB"\n')
    assert "max_payload '65MB' is above NATS's limit of 64MB" in str(err)
    err = error_for(stackfile, 'monitor = "yes"\n')
    assert (err.line, err.key) == (8, "services.events.monitor")
    assert "expected true or false, found a string 'yes'" in str(err)
    err = error_for(stackfile, 'version = "two"\n')
    assert "version constraint 'two' is not valid" in str(err)
    err = error_for(stackfile, 'isolation = "flush"\n')
    assert "'flush' is not one of 'purge', 'none'" in str(err)


def test_streams_need_jetstream(stackfile: Callable[[str], Path]) -> None:
    path = stackfile(HEAD.replace("jetstream = true\n", "") + 'streams = [{ name = "ORDERS" }]\n')
    with pytest.raises(ConfigError) as info:
        load_stack(path)
    assert (info.value.line, info.value.key) == (7, "services.events.streams")
    assert "`streams` needs JetStream: add `jetstream = true`" in str(info.value)


def test_a_reference_to_an_attribute_the_kind_lacks(stackfile: Callable[[str], Path]) -> None:
    path = stackfile(HEAD + 'export = { X = "${monitor_uri}" }\n')
    with pytest.raises(ConfigError) as info:
        load_stack(path)
    assert info.value.line == 8
    assert "monitor_uri" in str(info.value)


def test_sizes_and_overlaps() -> None:
    assert parse_size(1024, "k") == 1024
    assert parse_size("512KB", "k") == 512 * 1024
    assert parse_size("64mb", "k") == 64 * 1024 ** 2
    assert parse_size("1G", "k") == 1024 ** 3
    assert parse_size("2GiB", "k") == 2 * 1024 ** 3
    assert subjects_overlap("orders.>", "orders.created")
    assert subjects_overlap("orders.*", "*.created")
    assert subjects_overlap(">", "x")
    assert not subjects_overlap("orders.>", "orders")
    assert not subjects_overlap("orders.*", "orders.a.b")
    assert not subjects_overlap("orders.created", "payments.created")
