"""Compose as a stack file: run the ``docker-compose.test.yml`` a team already has, without Docker.

A front door that produces a stack: the compose file is parsed and validated (errors located by
file, line and key), each well-known image runs as the kind that claims it (the kinds' own
``_compose.py``, asked through the registry — this package names no kind), the team's app with
``build:`` runs as a local process from its Dockerfile's WORKDIR, ENV and CMD, and every
``NAME:CONTAINER_PORT`` address becomes ``127.0.0.1`` and an allocated port.  The result is a
normal validated :class:`~stackrig.config.StackFile`; ``stackrig import compose FILE`` writes the
same stack as a commented ``stackrig.toml``.  See docs/compose.md.
"""

from .._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._hook import (
        ComposeImage as ComposeImage,
        ComposeMapping as ComposeMapping,
        ComposeService as ComposeService,
        ImageRef as ImageRef,
        Note as Note,
        PortMapping as PortMapping,
        Unsupported as Unsupported,
        Volume as Volume,
    )
    from ._load import (
        COMPOSE_FILE_NAMES as COMPOSE_FILE_NAMES,
        ComposeLoad as ComposeLoad,
        ComposeStackFile as ComposeStackFile,
        import_compose as import_compose,
        is_compose_file as is_compose_file,
        load_compose as load_compose,
        load_stack as load_stack,
    )

_EXPORTS = {
    "ComposeImage": "._hook", "ComposeMapping": "._hook", "ComposeService": "._hook", "ImageRef": "._hook",
    "Note": "._hook", "PortMapping": "._hook", "Unsupported": "._hook", "Volume": "._hook",
    "COMPOSE_FILE_NAMES": "._load", "ComposeLoad": "._load", "ComposeStackFile": "._load",
    "import_compose": "._load", "is_compose_file": "._load", "load_compose": "._load", "load_stack": "._load",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
