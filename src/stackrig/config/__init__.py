"""The stack file: find it, parse it, validate it."""

from ._interp import Reference, interpolate, references
from ._load import STACK_FILE_NAMES, StackFile, find_stack_file, load_stack
from ._model import (
    KINDS,
    HttpStubSpec,
    PostgresSpec,
    ProcessSpec,
    ReadySpec,
    RedisSpec,
    ServiceSpec,
    SettingsSpec,
    SmtpSpec,
    parse_version_constraint,
)

__all__ = [
    "KINDS",
    "STACK_FILE_NAMES",
    "HttpStubSpec",
    "PostgresSpec",
    "ProcessSpec",
    "ReadySpec",
    "RedisSpec",
    "Reference",
    "ServiceSpec",
    "SmtpSpec",
    "SettingsSpec",
    "StackFile",
    "find_stack_file",
    "interpolate",
    "load_stack",
    "parse_version_constraint",
    "references",
]
