"""`wiremock/wiremock` in a compose file as `kind = "http-stub"`, with its mounted mappings.

A folder mounted at ``/home/wiremock`` (holding ``mappings/`` and ``__files/``) is `mappings`; a
folder named ``mappings`` mounted at ``/home/wiremock/mappings`` counts through its parent.
``--port`` moves the container port others address; the other flags are WireMock's and dropped.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from ...compose import ComposeImage, ComposeMapping, ComposeService, Unsupported

__all__ = ["IMAGE"]

ROOT = "/home/wiremock"


def to_stack(svc: ComposeService) -> ComposeMapping:
    m = ComposeMapping()
    root = None
    for v in svc.volumes:
        if v.path is None:
            continue
        target = PurePosixPath(v.target)
        if str(target) == ROOT:
            root = v.path
        elif str(target.parent) == ROOT and target.name in ("mappings", "__files"):
            if v.path.name != target.name:
                raise Unsupported(("volumes", v.index), f"{svc.relative(v.path)} is mounted at {v.target}: the stub "
                                  f"server reads {target.name}/ inside one root folder",
                                  hint=f"rename the folder to {target.name}/ (and mount its parent at {ROOT}), or use "
                                       "`x-stackrig: {skip: true}` and a kind = \"http-stub\" of your own")
            if root is not None and root != v.path.parent:
                raise Unsupported(("volumes", v.index), "mappings/ and __files/ come from different folders",
                                  hint="put both in one folder and mount it at /home/wiremock")
            root = v.path.parent
        else:
            continue
        m.used_volumes.add(v.index)
    if root is not None:
        m.table["mappings"] = svc.relative(root)
        m.mapped(("volumes",), f"{svc.relative(root)} → mappings (WireMock's mapping files, unchanged)")
    argv = list(svc.command or ())
    m.used_command = svc.command is not None
    for i, arg in enumerate(argv):
        if arg in ("--port", "-port") and i + 1 < len(argv) and argv[i + 1].isdigit():
            m.ports[int(argv[i + 1])] = "port"
        elif arg.startswith("--port="):
            m.ports[int(arg.split("=", 1)[1])] = "port"
        elif arg.startswith("--") and arg not in ("--port",):
            m.dropped(("command", i), f"WireMock flag {arg}: dropped")
    return m


IMAGE = ComposeImage(
    images=("wiremock/wiremock", "rodolpheche/wiremock"),
    ports={8080: "port"},
    map=to_stack,
    summary="the folder mounted at `/home/wiremock` (`mappings/`, `__files/`) → `mappings`",
    versioned=False,
)
