"""`stackrig doctor`: where every kind's binary and every runtime comes from; checks of the machine."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import click

from ..config import StackFile
from ..errors import ConfigError, StackrigError
from ..services import BROWSERS, RUNTIMES, BinarySpec, binary_version, candidates, find_binary, registry
from ._common import load, style

__all__ = ["command"]


def command() -> click.Command:
    return doctor


def _runtimes_named(service: object) -> list[str]:
    """The runtimes (`${node}`, `${npm}`, `${go}`) any value of a service's table names."""
    import re

    import msgspec

    text = json.dumps(msgspec.to_builtins(service))
    return sorted({m for m in re.findall(r"\$\{(\w+)\}", text) if m in RUNTIMES})


def _ok(text: str) -> None:
    click.echo(style("ok  ", "32") + "  " + text)


def _warn(text: str) -> None:
    click.echo(style("warn", "33") + "  " + text)


def _fail(text: str) -> None:
    click.echo(style("fail", "1;31") + "  " + text)


def _binaries() -> list[tuple[str, BinarySpec]]:
    """(label, spec) of every kind's binary and every runtime."""
    rows: list[tuple[str, BinarySpec]] = []
    reg = registry()
    for name in reg.names():
        try:
            binary = reg.get(name).binary
        except StackrigError as exc:
            _fail(f"kind {name}: {exc.message}")
            continue
        if binary is not None:
            rows.append((f"kind {name}", binary))
    rows += [(f"runtime {name}", spec) for name, spec in RUNTIMES.items()]
    rows += [(f"browser {name}", spec) for name, spec in BROWSERS.items()]
    return rows


@click.command("doctor")
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Show where each binary comes from, and check the machine."""
    from ..supervisor import unprivileged_user

    stack: StackFile | None = None
    try:
        stack = load(ctx.obj["file"])
    except ConfigError as exc:
        from ..config import find_stack_file

        if ctx.obj["file"] or find_stack_file() is not None:
            raise
        click.echo(f"(no stack file: {exc.message})", err=True)
    problems = 0
    click.echo(style("binaries (first match wins; STACKRIG_PROVIDERS changes the order)", "1"))
    for label, spec in _binaries():
        found = candidates(spec)
        if not found:
            click.echo(f"  {label:<18} {style('none', '31')}  fix: {spec.install_hint()}")
        for i, (exe, source) in enumerate(found):
            v = binary_version(exe, spec)
            head = label if i == 0 else ""
            click.echo(f"  {head:<18} {source:<28} {str(v) if v else '?':<10} {exe}")
    if stack is not None:
        click.echo(style(f"services of {stack.path}", "1"))
        reg = registry()
        for name, service in stack.services.items():
            kind = reg.get(service.kind)
            used = _runtimes_named(service)
            if kind.binary is None and not used:
                _ok(f"service {name} ({service.kind}): no binary needed")
            for runtime in used:  # ${node}, ${npm}, ${go} in its command, build, env
                try:
                    b = find_binary(RUNTIMES[runtime], service=name)
                    _ok(f"service {name} ({service.kind}): {runtime} {b.version} from {b.source} at {b.exe}")
                except StackrigError as exc:
                    problems += 1
                    _fail(str(exc))
            if kind.binary is not None:
                try:
                    b = find_binary(kind.binary, service=name, version=getattr(service, "version", None),
                                    path=getattr(service, "path", None), root=stack.root)
                    _ok(f"service {name} ({service.kind}): {b.source} {b.version} at {b.exe}")
                except StackrigError as exc:
                    problems += 1
                    _fail(str(exc))
            for module, why in kind.python_modules.items():
                if importlib.util.find_spec(module) is None:
                    _warn(f"service {name}: python package {module} not installed: {why} unavailable "
                          f"(pip install {module})")
    click.echo(style("machine", "1"))
    shm = Path("/dev/shm")
    if os.access(shm, os.W_OK):
        _ok(f"tmpfs for run data: {shm}")
    else:
        _warn("tmpfs for run data: not available, using disk")
    if os.geteuid() == 0:
        refusing = [spec for _, spec in _binaries() if spec.refuses_root]
        accounts = [a for spec in refusing for a in spec.accounts]
        user = unprivileged_user(accounts)
        names = ", ".join(spec.name for spec in refusing) or "none"
        if user:
            _ok(f"running as root: servers that refuse root ({names}) run as '{user.name}'")
        else:
            problems += 1
            _fail("running as root and no unprivileged account exists for servers that refuse root "
                  f"({names}); set STACKRIG_SERVICE_USER")
    from .._paths import cache_dir

    _ok(f"cache: {cache_dir()}")
    if importlib.util.find_spec("httpx") is None:
        _warn("python package httpx not installed: rig.http() unavailable (pip install httpx)")
    if problems:
        ctx.exit(1)
