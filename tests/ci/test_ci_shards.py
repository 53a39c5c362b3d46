"""`pytest --stackrig-shard K/N`: every test in exactly one shard, balanced by recorded durations."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stackrig.ci import (
    Measure,
    ShardError,
    load_durations,
    merge_durations,
    parse_shard,
    plan_shards,
    round_robin,
    update_durations,
    write_durations,
)

# A generated suite: 3 modules, 24 tests; every third test (in sorted order) is slow.
SUITE = {
    "test_orders": "import pytest\n\n@pytest.mark.parametrize('n', range(8))\ndef test_order(n):\n    pass\n",
    "test_users": "def test_signup():\n    pass\n\n" + "".join(f"def test_user_{i}():\n    pass\n\n" for i in range(7)),
    "test_zbilling": "import pytest\n\nclass TestBilling:\n"
                     + "".join(f"    def test_invoice_{i}(self):\n        pass\n\n" for i in range(8)),
}


def suite_ids() -> list[str]:
    ids = [f"test_orders.py::test_order[{n}]" for n in range(8)]
    ids += ["test_users.py::test_signup", *(f"test_users.py::test_user_{i}" for i in range(7))]
    ids += [f"test_zbilling.py::TestBilling::test_invoice_{i}" for i in range(8)]
    return ids


def recorded() -> dict[str, Measure]:
    """Durations of an earlier run: every third test takes 10 s, the rest 1 s; two tests were never timed,
    and one timed test no longer exists."""
    ids = sorted(suite_ids())
    table = {test: Measure(10.0 if k % 3 == 0 else 1.0, at=1000.0) for k, test in enumerate(ids)}
    del table[ids[4]], table[ids[5]]
    table["test_gone.py::test_removed"] = Measure(3.0, at=1000.0)
    return table


def write_suite(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(**SUITE)
    return write_durations(pytester.path / ".stackrig" / "durations.json", recorded())


def makespan(shards: tuple[tuple[str, ...], ...] | list[set[str]], table: dict[str, Measure], default: float) -> float:
    return max(sum(table[t].seconds if t in table else default for t in shard) for shard in shards)


# -- the plan --------------------------------------------------------------------------------------------
def test_the_plan_puts_every_test_in_exactly_one_shard_the_same_everywhere() -> None:
    ids = suite_ids()
    plan = plan_shards(ids, recorded(), 3)
    flat = [t for shard in plan.shards for t in shard]
    assert sorted(flat) == sorted(ids) and len(flat) == len(set(flat))
    shuffled = ids * 2  # another machine: another collection order, a duplicate id
    random.Random(7).shuffle(shuffled)
    assert plan_shards(shuffled, recorded(), 3) == plan
    assert plan.estimated == {sorted(ids)[4], sorted(ids)[5]}
    assert plan.default == 1.0  # the median of the recorded durations of this suite's tests


def test_the_plan_beats_round_robin_given_durations() -> None:
    ids, table = suite_ids(), recorded()
    plan = plan_shards(ids, table, 3)
    naive = makespan(round_robin(ids, 3), table, plan.default)
    assert plan.makespan < naive
    assert plan.makespan == pytest.approx(sum(plan.loads) / 3, rel=0.1)  # within 10% of the perfect split
    assert plan.makespan == makespan(plan.shards, table, plan.default)


def test_without_durations_every_test_weighs_the_same() -> None:
    plan = plan_shards([f"t{i:02}" for i in range(10)], {}, 3)
    assert [len(s) for s in plan.shards] == [4, 3, 3] and plan.default == 1.0
    assert plan_shards([], {}, 2).shards == ((), ())


@pytest.mark.parametrize(("text", "message"), [
    ("3/2", "between 1 and N=2"), ("0/2", "between 1 and N=2"), ("x", "expected K/N"), ("1/0", "at least 1"),
    ("2/x", "expected K/N"), ("", "expected K/N"), ("-1/2", "expected K/N"), ("1/2/3", "expected K/N"),
])
def test_a_shard_that_is_not_one(text: str, message: str) -> None:
    with pytest.raises(ShardError, match=re.escape(message)):
        parse_shard(text)


def test_a_shard_parses() -> None:
    assert parse_shard("2/3") == (2, 3) and parse_shard(" 1 / 1 ") == (1, 1)


# -- the durations file ----------------------------------------------------------------------------------
def test_durations_merge_and_keep_what_did_not_run(tmp_path: Path) -> None:
    path = tmp_path / ".stackrig" / "durations.json"
    update_durations(path, {"a": 1.0, "b": 2.0}, now=100)
    merged = update_durations(path, {"b": 5.0, "c": 0.5}, now=200)
    assert merged == {"a": Measure(1.0, 100), "b": Measure(5.0, 200), "c": Measure(0.5, 200)}
    assert load_durations(path) == merged
    assert sorted(p.name for p in path.parent.iterdir()) == ["durations.json", "durations.json.lock"]
    assert json.loads(path.read_text())["format"] == 1


def test_durations_read_pytest_split_files_and_survive_a_broken_one(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    path.write_text('{"tests/test_a.py::test_x": 0.25}')
    assert load_durations(path) == {"tests/test_a.py::test_x": Measure(0.25)}
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not a durations file"):
        load_durations(path)
    assert update_durations(path, {"t": 1.0}, now=5) == {"t": Measure(1.0, 5)}  # replaced, not a crash
    assert load_durations(tmp_path / "missing.json") == {}


def test_shards_gathered_from_machines_merge_by_latest() -> None:
    base = {"a": Measure(1.0, 10), "b": Measure(1.0, 10), "c": Measure(1.0, 10)}
    shard1 = {**base, "a": Measure(2.0, 50)}
    shard2 = {**base, "b": Measure(3.0, 60), "new": Measure(0.1, 60)}
    assert merge_durations([shard1, shard2]) == {"a": Measure(2.0, 50), "b": Measure(3.0, 60),
                                                 "c": Measure(1.0, 10), "new": Measure(0.1, 60)}


def test_concurrent_shards_writing_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "durations.json"
    code = textwrap.dedent("""
        import sys
        from stackrig.ci import update_durations
        shard = sys.argv[1]
        for i in range(15):
            update_durations(sys.argv[2], {f"shard{shard}::test_{i}": 0.1})
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(k), str(path)]) for k in range(3)]
    assert [p.wait(timeout=60) for p in procs] == [0, 0, 0]
    assert len(load_durations(path)) == 45
    assert sorted(p.name for p in tmp_path.iterdir()) == ["durations.json", "durations.json.lock"]  # no temp files


def test_the_cli_merges_durations_files(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from stackrig.cli.ci import command

    one, two, out = tmp_path / "one.json", tmp_path / "two.json", tmp_path / "out.json"
    write_durations(one, {"a": Measure(1.0, 10), "b": Measure(1.0, 10)})
    write_durations(two, {"a": Measure(1.0, 10), "b": Measure(4.0, 20)})
    done = CliRunner().invoke(command(), ["durations", str(one), str(two), str(tmp_path / "nope.json"), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert load_durations(out) == {"a": Measure(1.0, 10), "b": Measure(4.0, 20)}
    assert "nope.json: no such file" in done.output and "2 tests from 2 file(s)" in done.output
    empty = CliRunner().invoke(command(), ["durations", str(tmp_path / "nope.json"), "-o", str(out)])
    assert empty.exit_code == 1 and "no durations files to merge" in str(empty.exception)


# -- through pytest ----------------------------------------------------------------------------------------
@pytest.fixture
def lean(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Only stackrig's plugin (and xdist's) in the inner sessions: the venv's other plugins take seconds to load
    in every xdist worker.  The first test below loads stackrig through its entry point, as users do."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return ["-p", "stackrig.pytest_plugin"]


def run_shard(pytester: pytest.Pytester, shard: str, *args: str) -> tuple[list[str], int]:
    """Run one shard in-process: the ids that passed, and how many were deselected."""
    rec = pytester.inline_run("--stackrig-shard", shard, "-p", "no:randomly", *args)
    passed, skipped, failed = rec.listoutcomes()
    assert not failed and not skipped
    deselected = sum(len(call.items) for call in rec.getcalls("pytest_deselected"))
    return [r.nodeid for r in passed], deselected


def test_three_shards_run_every_test_once_balanced_and_record_durations(pytester: pytest.Pytester) -> None:
    path = write_suite(pytester)
    committed = path.read_bytes()
    ran: list[set[str]] = []
    for k in (1, 2, 3):
        path.write_bytes(committed)  # each CI machine checks out the same durations file
        passed, deselected = run_shard(pytester, f"{k}/3")
        assert len(passed) + deselected == 24
        ran.append(set(passed))
        after = load_durations(path)
        assert set(passed) <= set(after) and all(after[t].at > 1000 for t in passed)  # measured this time
        kept = {t: m for t, m in after.items() if t not in passed}
        assert kept == {t: m for t, m in recorded().items() if t not in passed}  # the others untouched
        assert "test_gone.py::test_removed" in after
    assert set().union(*ran) == set(suite_ids())
    assert sum(len(s) for s in ran) == 24  # exactly once
    table, default = recorded(), 1.0
    assert makespan(ran, table, default) < makespan(round_robin(suite_ids(), 3), table, default)


def test_the_shard_line_and_deselected_count(pytester: pytest.Pytester, lean: list[str]) -> None:
    write_suite(pytester)
    plan = plan_shards(suite_ids(), recorded(), 3)
    mine = len(plan.of(2))
    result = pytester.runpytest(*lean, "--stackrig-shard", "2/3")
    result.assert_outcomes(passed=mine, deselected=24 - mine)
    result.stdout.fnmatch_lines([f"collected 24 items / {24 - mine} deselected / {mine} selected",
                                 f"stackrig: shard 2/3: {mine} of 24 tests, ~{plan.loads[1]:.1f} s of ~96.0 s, "
                                 "2 without a recorded duration",
                                 f"stackrig: durations of {mine} tests merged into .stackrig/durations.json"])


def test_k_and_collect_only_shard_what_is_selected_and_record_nothing(pytester: pytest.Pytester,
                                                                      lean: list[str]) -> None:
    path = write_suite(pytester)
    before = path.read_bytes()
    result = pytester.runpytest(*lean, "--stackrig-shard", "1/2", "-k", "billing", "--collect-only", "-q")
    selected = [line for line in result.stdout.lines if "::" in line]
    assert len(selected) == 4 and all("TestBilling" in line for line in selected)
    assert path.read_bytes() == before


def test_a_shard_under_xdist(pytester: pytest.Pytester, lean: list[str]) -> None:
    pytest.importorskip("xdist")
    path = write_suite(pytester)
    mine = set(plan_shards(suite_ids(), recorded(), 3).of(1))
    result = pytester.runpytest(*lean, "-p", "xdist", "--stackrig-shard", "1/3", "-n", "2", "-v")
    result.assert_outcomes(passed=len(mine))
    ran = set(re.findall(r"PASSED (\S+)", result.stdout.str()))
    assert ran == mine
    after = load_durations(path)
    assert all(after[t].at > 1000 for t in mine)  # recorded by the controller from the workers' reports


@pytest.mark.parametrize(("shard", "message"), [
    ("3/2", "the shard K must be between 1 and N=2"),
    ("0/2", "the shard K must be between 1 and N=2"),
    ("x", "expected K/N (the K-th of N shards, e.g. 2/3), found 'x'"),
])
def test_shard_option_errors_are_usage_errors(pytester: pytest.Pytester, lean: list[str], shard: str,
                                              message: str) -> None:
    pytester.makepyfile(test_one="def test_one():\n    pass\n")
    result = pytester.runpytest(*lean, "--stackrig-shard", shard)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "ERROR: --stackrig-shard: " in result.stderr.str() and message in result.stderr.str()
