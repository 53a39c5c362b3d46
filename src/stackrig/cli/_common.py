"""What the verbs share: finding the stack file, printing errors, trapping signals."""

from __future__ import annotations

import os
import sys

from ..errors import ConfigError, StackNotRunning, StackrigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from types import FrameType
    from typing import NoReturn

    from ..config import StackFile
    from ..run import RunRecord

__all__ = ["STATE_ENV", "Stop", "stack_path", "project_dir", "load", "running", "print_error", "exit_code",
           "trap_signals", "style", "fail"]

STATE_ENV = "STACKRIG_STATE"


def style(text: str, code: str, stream: object = None) -> str:
    """`text` in an ANSI style when the stream is a terminal (and NO_COLOR is unset)."""
    target = stream if stream is not None else sys.stdout
    if os.environ.get("NO_COLOR") or not getattr(target, "isatty", lambda: False)():
        return text
    return f"\033[{code}m{text}\033[0m"


def print_error(exc: BaseException) -> None:
    sys.stderr.write(style("error: ", "1;31", sys.stderr) + str(exc) + "\n")
    sys.stderr.flush()


def exit_code(exc: StackrigError) -> int:
    return 2 if isinstance(exc, ConfigError) else 1


class Stop(BaseException):
    """Raised in the main thread on SIGTERM/SIGHUP so teardown runs."""


def _raise_stop(signum: int, frame: FrameType | None) -> NoReturn:
    raise Stop(signum)


def trap_signals() -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_stop)


def stack_file(file: str | None) -> str:
    """The stack file's path: `file`, or the one found here or in a parent folder."""
    from ..config._find import find_stack_path

    if file:
        if not os.path.isfile(file):
            raise ConfigError("no such stack file" if not os.path.isdir(file) else "a folder, not a stack file",
                              file=file,
                              hint="pass the path of a stackrig.toml, pyproject.toml or compose file to -f/--file")
        return file
    found = find_stack_path()
    if found is None:
        raise ConfigError(
            f"no stackrig.toml (or pyproject.toml with [tool.stackrig], or compose file) in {os.getcwd()} or its "
            "parents", hint="run `stackrig init` to write one, or pass -f/--file PATH (docker-compose.test.yml too)")
    return found


def stack_path(file: str | None) -> Path:
    from pathlib import Path

    return Path(stack_file(file))


def project_dir(file: str | None) -> str:
    """The folder of the stack file (symlinks resolved, as the loader does)."""
    return os.path.dirname(os.path.realpath(stack_file(file)))


def load(file: str | None) -> StackFile:
    from ..services import load_stack

    return load_stack(stack_path(file))


def running(file: str | None) -> RunRecord:
    from ..run._current import read_current

    project = project_dir(file)
    record = read_current(project)
    if record is None:
        raise StackNotRunning(f"no stack is running for {project}", hint="start one with `stackrig up -d`")
    return record


def fail(exc: StackrigError) -> NoReturn:
    print_error(exc)
    sys.exit(exit_code(exc))

