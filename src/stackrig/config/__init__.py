"""The stack file: find it, parse it, validate it — knowing no kind by name.

A kind's keys are a :class:`ServiceSpec` subclass in the kind's folder; the kind registry
(:mod:`stackrig.services`) hands the loader the models of every registered kind.  Names
are imported on first use, so finding a stack file (``stackrig status``) costs no parser.
"""

from .._lazy import lazy_exports

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ._find import STACK_FILE_NAMES as STACK_FILE_NAMES, find_stack_file as find_stack_file
    from ._interp import Reference as Reference, interpolate as interpolate, references as references
    from ._load import (
        StackFile as StackFile,
        interpolated_fields as interpolated_fields,
        load_stack as load_stack,
        parse_stack as parse_stack,
    )
    from ._spec import (
        Port as Port,
        ReadySpec as ReadySpec,
        Scalar as Scalar,
        Seconds as Seconds,
        ServerSpec as ServerSpec,
        ServiceSpec as ServiceSpec,
        SettingsSpec as SettingsSpec,
        Spec as Spec,
        SpecError as SpecError,
        parse_version_constraint as parse_version_constraint,
    )

_EXPORTS = {
    "STACK_FILE_NAMES": "._find", "find_stack_file": "._find",
    "Reference": "._interp", "interpolate": "._interp", "references": "._interp",
    "StackFile": "._load", "interpolated_fields": "._load", "load_stack": "._load", "parse_stack": "._load",
    "Port": "._spec", "ReadySpec": "._spec", "Scalar": "._spec", "Seconds": "._spec", "ServerSpec": "._spec",
    "ServiceSpec": "._spec", "SettingsSpec": "._spec", "Spec": "._spec", "SpecError": "._spec",
    "parse_version_constraint": "._spec",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
