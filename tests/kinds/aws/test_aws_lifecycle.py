"""kind = "aws" through the runner and the plugin: nothing outlives a run, concurrent runs,
per-test isolation, attaching to `stackrig up -d`, pytest-xdist."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aws_support import STACK, write_project
from helpers import alive, leftovers, run_cli, tree_of, wait_until

RUNNER = """
import sys, time, json
from stackrig import load_stack
from stackrig.run import StackRunner
r = StackRunner(load_stack(sys.argv[1]))
rec = r.up()
print(json.dumps({"run_id": r.run_id, "pids": [p for s in rec.services for p in s.pids], "data": rec.data_dir,
                  "url": rec.service("aws").url}), flush=True)
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 600)
"""


def test_sigkill_of_the_runner_leaves_no_process(tmp_path: Path) -> None:
    path = write_project(tmp_path)
    runner = subprocess.Popen([sys.executable, "-c", RUNNER, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert runner.stdout is not None
        info = json.loads(runner.stdout.readline())
        tree = tree_of(info["pids"])
        assert info["pids"] and all(alive(p) for p in info["pids"])
    finally:
        runner.send_signal(signal.SIGKILL)
        runner.wait()
    assert wait_until(lambda: leftovers(info["run_id"], info["pids"], tree) == [], 30)
    assert wait_until(lambda: not Path(info["data"]).exists(), 10)


@pytest.mark.slow
def test_four_concurrent_runs_never_collide(tmp_path: Path) -> None:
    import boto3

    procs, infos = [], []
    for i in range(4):
        root = tmp_path / f"run{i}"
        root.mkdir()
        procs.append(subprocess.Popen([sys.executable, "-c", RUNNER, str(write_project(root)), "60"],
                                      stdout=subprocess.PIPE, text=True))
    try:
        for proc in procs:
            assert proc.stdout is not None
            infos.append(json.loads(proc.stdout.readline()))
        urls = [i["url"] for i in infos]
        assert len(set(urls)) == 4
        for n, url in enumerate(urls):  # each run's writes stay in its own server
            s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="a",
                              aws_secret_access_key="b")
            s3.put_object(Bucket="plain", Key=f"from-{n}", Body=b"x")
        for n, url in enumerate(urls):
            s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="a",
                              aws_secret_access_key="b")
            assert [o["Key"] for o in s3.list_objects_v2(Bucket="plain")["Contents"]] == [f"from-{n}"]
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            proc.wait(30)
    for info in infos:
        assert wait_until(lambda info=info: leftovers(info["run_id"], info["pids"]) == [], 30)  # type: ignore[misc]


PLUGIN_TESTS = """
import json, os, time
import boto3, pytest

def s3(rig):
    return boto3.client("s3", endpoint_url=rig["aws"].url)  # the region and keys come from the exports

@pytest.mark.parametrize("n", range(3))
def test_each_starts_from_the_baseline(rig, n):
    for k, v in rig.env.items():
        os.environ[k] = v
    client = s3(rig)
    keys = sorted(o["Key"] for o in client.list_objects_v2(Bucket="uploads")["Contents"])
    assert keys == ["docs/readme.json", "hello.txt"]
    assert client.get_object(Bucket="uploads", Key="hello.txt")["Body"].read() == b"hello\\n"
    assert rig.queue("aws", "jobs").peek() == []
    client.put_object(Bucket="uploads", Key=f"added-{n}", Body=b"x")
    client.put_object(Bucket="uploads", Key="hello.txt", Body=b"changed")
    tap = rig.events("aws", "order-events")
    rig.publish("aws", "order-events", {"n": n})
    assert tap.wait_for(match={"n": n}).body == {"n": n}
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with open(f"seen-{worker}-{n}.json", "w") as f:
        json.dump({"url": rig["aws"].url, "events": [e.body for e in tap.events]}, f)

def test_a_noop_test(rig):
    assert rig.queue("aws", "jobs").peek() == []
"""


@pytest.mark.slow
def test_the_plugin_resets_after_each_test(pytester: pytest.Pytester) -> None:
    write_project(pytester.path)
    pytester.makepyfile(PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=4)


@pytest.mark.slow
def test_isolation_fails_without_the_reset(pytester: pytest.Pytester) -> None:
    """The control experiment: the same tests fail with isolation = "none"."""
    write_project(pytester.path, STACK.replace('kind = "aws"', 'kind = "aws"\nisolation = "none"'))
    pytester.makepyfile(PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=3)  # the second test on sees the first one's writes


@pytest.mark.slow
def test_taps_and_resets_work_when_attached_to_stackrig_up(pytester: pytest.Pytester) -> None:
    write_project(pytester.path)
    pytester.makepyfile(PLUGIN_TESTS)
    up = run_cli("up", "-d", cwd=pytester.path)
    assert up.returncode == 0, up.stderr
    try:
        result = pytester.runpytest_subprocess("-p", "no:randomly")
        result.assert_outcomes(passed=4)
        result.stdout.fnmatch_lines(["stackrig: stack * attached to stackrig up (pid *) in * ms"])
        again = pytester.runpytest_subprocess("-p", "no:randomly")  # the next session finds the baseline
        again.assert_outcomes(passed=4)
    finally:
        down = run_cli("down", cwd=pytester.path)
    assert down.returncode == 0, down.stderr


@pytest.mark.slow
def test_xdist_workers_each_get_their_own_server(pytester: pytest.Pytester) -> None:
    write_project(pytester.path)
    pytester.makepyfile(PLUGIN_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:randomly", "-n", "2")
    result.assert_outcomes(passed=4)
    seen: dict[str, list[dict[str, object]]] = {}
    for path in pytester.path.glob("seen-*.json"):
        seen.setdefault(path.name.split("-")[1], []).append(json.loads(path.read_text()))
    assert len(seen) == 2  # both workers ran a test with a tap
    urls = {w: {s["url"] for s in runs} for w, runs in seen.items()}
    assert all(len(u) == 1 for u in urls.values()) and len(set.union(*urls.values())) == 2  # a server each
    for runs in seen.values():
        for run in runs:
            assert len(run["events"]) == 1  # type: ignore[arg-type]  # no worker sees another's events

