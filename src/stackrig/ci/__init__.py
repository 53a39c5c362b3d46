"""CI pipelines for a project's stack, and suites split into shards across CI machines.

An engine (it knows no CLI and no pytest): what a CI machine needs for a stack (the Debian packages
or wheels of its kinds and runtimes, the project's install, the cache key), the GitHub Actions
workflow and the GitLab pipeline that run the tests with them, and the shard plan — every test in
exactly one of N shards, balanced by the durations earlier runs recorded::

    from stackrig.ci import Options, github_workflow, inspect_project, plan_shards, load_durations

    project = inspect_project("stackrig.toml")
    text = github_workflow(project, Options(shards=3))
    plan = plan_shards(test_ids, load_durations(".stackrig/durations.json"), 3)

``stackrig ci github|gitlab`` and ``pytest --stackrig-shard K/N`` are its front ends (docs/ci.md).
Imported lazily: ``import stackrig.ci`` costs nothing until a name is used.
"""

from .._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._actions import ACTIONS as ACTIONS, Pin as Pin
    from ._common import DEFAULT_TEST_COMMAND as DEFAULT_TEST_COMMAND, Options as Options
    from ._errors import CiError as CiError, ShardError as ShardError
    from ._github import GITHUB_PATH as GITHUB_PATH, github_workflow as github_workflow
    from ._gitlab import GITLAB_PATH as GITLAB_PATH, gitlab_pipeline as gitlab_pipeline
    from ._project import Need as Need, Project as Project, find_root as find_root, inspect_project as inspect_project
    from ._shards import (
        DURATIONS_FILE as DURATIONS_FILE,
        Measure as Measure,
        ShardPlan as ShardPlan,
        load_durations as load_durations,
        merge_durations as merge_durations,
        parse_shard as parse_shard,
        plan_shards as plan_shards,
        round_robin as round_robin,
        update_durations as update_durations,
        write_durations as write_durations,
    )
    from ._write import write_pipeline as write_pipeline

_EXPORTS = {
    "ACTIONS": "._actions", "Pin": "._actions",
    "DEFAULT_TEST_COMMAND": "._common", "Options": "._common",
    "CiError": "._errors", "ShardError": "._errors",
    "GITHUB_PATH": "._github", "github_workflow": "._github",
    "GITLAB_PATH": "._gitlab", "gitlab_pipeline": "._gitlab",
    "Need": "._project", "Project": "._project", "find_root": "._project", "inspect_project": "._project",
    "DURATIONS_FILE": "._shards", "Measure": "._shards", "ShardPlan": "._shards", "load_durations": "._shards",
    "merge_durations": "._shards", "parse_shard": "._shards", "plan_shards": "._shards", "round_robin": "._shards",
    "update_durations": "._shards", "write_durations": "._shards",
    "write_pipeline": "._write",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
