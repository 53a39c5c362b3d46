"""Stack-file mistakes of kind = "aws" name file, line and key; discovery errors name the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import run_cli

from stackrig import ConfigError, ProviderNotFound, load_stack
from stackrig.run import StackRunner


def error_for(stackfile: Callable[[str], Path], text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_stack(stackfile(text))
    return info.value


def test_a_good_file_loads(stackfile: Callable[[str], Path]) -> None:
    stack = load_stack(stackfile("""
        [services.aws]
        kind = "aws"
        region = "eu-west-1"
        buckets = ["uploads", { name = "assets", from = "fixtures" }]
        queues = ["jobs", "jobs2", "dead.fifo",
                  { name = "jobs.fifo", content_based_deduplication = true, dead_letter = "dead.fifo" }]
        topics = [{ name = "events", subscriptions = ["jobs", { queue = "jobs2", raw = true }] }]
        export = { QUEUES = "${queues}", BUCKET_LIST = "${buckets}" }
    """))
    assert stack.services["aws"].kind == "aws"


@pytest.mark.parametrize(("text", "line", "key", "message"), [
    ('queues = [{ name = "jobs", visiblity_timeout = 3 }]', 3, "services.aws.queues.0.visiblity_timeout",
     "unknown key 'visiblity_timeout' (did you mean 'visibility_timeout'?)"),
    ('buckets = ["Uploads"]', 3, "services.aws.buckets",
     "buckets[0]: bucket name 'Uploads' is not valid: 3 to 63 lowercase letters"),
    ('buckets = [{ name = "ab" }]', 3, "services.aws.buckets.0.name", "bucket name 'ab' is not valid"),
    ('queues = [{ name = "jobs", fifo = true }]', 3, "services.aws.queues.0.fifo",
     "a FIFO queue's name must end in '.fifo'; found 'jobs' (name it 'jobs.fifo')"),
    ('queues = [{ name = "jobs", content_based_deduplication = true }]', 3,
     "services.aws.queues.0.content_based_deduplication",
     "content_based_deduplication is for FIFO queues; 'jobs' is a standard queue"),
    ('queues = [{ name = "jobs", visibility_timeout = 50000 }]', 3, "services.aws.queues.0.visibility_timeout",
     "expected an integer <= 43200, found an integer 50000"),
    ('queues = [{ name = "jobs", dead_letter = "dlq" }]', 3, "services.aws.queues",
     "queues[0] ('jobs'): dead_letter 'dlq' is not a queue of this service; declared queues: jobs"),
    ('queues = ["a.fifo", { name = "b", dead_letter = "a.fifo" }]', 3, "services.aws.queues",
     "queues[1] ('b'): the dead-letter queue of a standard queue must be standard too; 'a.fifo' is not"),
    ('queues = ["jobs", "jobs"]', 3, "services.aws.queues", "queues[1]: 'jobs' is declared twice"),
    ('queues = ["bad name"]', 3, "services.aws.queues", "queues[0]: queue name 'bad name' is not valid"),
    ('topics = [{ name = "t", subscriptions = ["nope"] }]', 3, "services.aws.topics",
     "topics[0] ('t'): subscription to 'nope', which is not a queue of this service; declared queues: none"),
    ('queues = ["q.fifo"]\ntopics = [{ name = "t", subscriptions = ["q.fifo"] }]', 4, "services.aws.topics",
     "topics[0] ('t'): a standard topic cannot deliver to the FIFO queue 'q.fifo' (SNS refuses it)"),
    ('queues = ["q"]\ntopics = [{ name = "t", subscriptions = ["q", { queue = "q" }] }]', 4,
     "services.aws.topics.0.subscriptions", "topic 't' subscribes queue 'q' twice"),
    ('topics = [{ name = "t", subscriptions = [{ queue = "q", raw = "yes" }] }]', 3,
     "services.aws.topics.0.subscriptions.0.raw", "expected true or false, found a string 'yes'"),
    ('region = "Mars"', 3, "services.aws.region", "region 'Mars' is not an AWS region name such as 'us-east-1'"),
    ('isolation = "flush"', 3, "services.aws.isolation", "'flush' is not one of 'reset', 'none'"),
    ('version = "five"', 3, "services.aws.version", "version constraint 'five' is not valid"),
    ('export = { X = "${queue_url}" }', 3, "services.aws.export.X",
     "unresolved ${queue_url}: a aws service has no attribute 'queue_url'"),
])
def test_mistakes_name_file_line_and_key(stackfile: Callable[[str], Path], text: str, line: int, key: str,
                                         message: str) -> None:
    err = error_for(stackfile, f'[services.aws]\nkind = "aws"\n{text}\n')
    path = err.file
    assert path is not None and path.name == "stackrig.toml"
    assert message in str(err), str(err)
    assert err.key == key, str(err)
    assert err.line == line, str(err)
    assert str(err).startswith(f"{path}:{line}:")


def test_a_missing_from_folder_names_the_key(stackfile: Callable[[str], Path]) -> None:
    path = stackfile('[services.aws]\nkind = "aws"\nbuckets = [{ name = "uploads", from = "fixtures/nope" }]\n')
    runner = StackRunner(load_stack(path))
    with pytest.raises(ConfigError) as info:
        runner.up()
    err = info.value
    assert err.key == "services.aws.buckets[0].from" and err.line == 3
    assert "bucket 'uploads': `from` folder 'fixtures/nope' does not exist (looked for " in str(err)
    assert "fix: name a folder relative to the stack file" in str(err)


def test_an_unsatisfied_version_names_what_was_found_and_the_fix(stackfile: Callable[[str], Path]) -> None:
    runner = StackRunner(load_stack(stackfile('[services.aws]\nkind = "aws"\nversion = ">=99"\n')))
    with pytest.raises(ProviderNotFound) as info:
        runner.up()
    text = str(info.value)
    assert "service 'aws': no moto server '>=99' found" in text
    assert "moto_server (pip: moto): version 5." in text and "does not satisfy '>=99'" in text
    assert "fix: pip install 'moto[server]'; or relax `version = '>=99'`" in text


def test_no_moto_at_all_says_how_to_install_it(stackfile: Callable[[str], Path], tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    runner = StackRunner(load_stack(stackfile('[services.aws]\nkind = "aws"\npath = "empty"\n')))
    import os

    old = os.environ.get("STACKRIG_PROVIDERS")
    os.environ["STACKRIG_PROVIDERS"] = "path"
    try:
        with pytest.raises(ProviderNotFound) as info:
            runner.up()
    finally:
        if old is None:
            os.environ.pop("STACKRIG_PROVIDERS")
        else:
            os.environ["STACKRIG_PROVIDERS"] = old
    text = str(info.value)
    assert "empty (stack file `path`): no moto_server there" in text
    assert "fix: pip install 'moto[server]'" in text


def test_doctor_lists_the_kind(tmp_path: Path) -> None:
    done = run_cli("doctor", cwd=tmp_path)
    row = next(line for line in done.stdout.splitlines() if "kind aws" in line)
    assert "pip: moto" in row and row.endswith("/moto_server")


def test_a_resource_moto_refuses_fails_the_start_with_its_reason(stackfile: Callable[[str], Path]) -> None:
    from stackrig import ServiceError

    runner = StackRunner(load_stack(stackfile(
        '[services.aws]\nkind = "aws"\nqueues = ["jobs"]\n'
        'topics = [{ name = "t", subscriptions = [{ queue = "jobs", filter_policy = { kind = 5 } }] }]\n')))
    with pytest.raises(ServiceError) as info:
        runner.up()
    text = str(info.value)
    assert "service 'aws': moto refused to create the stack file's resources: " in text
    assert "Subscribe operation" in text and "FilterPolicy" in text
    assert "fix: check the buckets, queues and topics of the stack file against the error above" in text
